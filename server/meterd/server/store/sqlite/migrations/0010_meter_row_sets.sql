-- Row sets (issue 23): the meters of one event type that group by the same paths share their pre-aggregate
-- rows, each meter in a slot (a column set) of its own, so an event that three meters read is one row
-- upserted once, not three. Layout (store/rowsets.py writes and reads it; meters/fold.py makes the rows):
--
-- meter_rowsets lists the row sets, each of one event type and one list of group paths (a JSON array, in
-- the meters' sorted group-key order, so that every meter of a row set has the same group values);
-- meter_slots gives each meter but UNIQUE_COUNT's its row set and slot (0..3: a fifth meter of one type
-- and group paths starts a second row set). Slot i is four columns in every row of its row set: n{i}
-- (count), a{i} and b{i} (sum_units and sum_nanos for SUM and AVG; latest_time_us and latest_seq for
-- LATEST), x{i} (min, max or latest). A slot nobody holds is NULL in every row (a deleted meter's slot is
-- cleared before it is given again).
--
-- agg_sub_m: per-subject minute rows, keyed (rowset, day, subject, minute, groups) as meter_sub_m was (keys
-- led by time: a batch touches the recent end of the table; one subject's range is one seek per day).
-- agg_sub_h: per-subject hour totals over every group value, keyed (rowset, day, subject, hour): what a
-- one-subject query without group values reads for whole hours. A subject-month is at most 720 of them,
-- however many events it had (10M events: 10,000 minute rows a subject-month, about 260 pages; 50M: five
-- times that), at the cost of one more upsert per event (a subject's events of one hour share it).
-- agg_all_m / agg_all_h / agg_all_d: all subjects, per level, keyed (rowset, time, groups).
-- UNIQUE_COUNT's distinct values (meter_sub_distinct_m, meter_all_distinct_*) and meter_subjects stay as
-- they were, keyed by the meter's number.
--
-- Existing aggregates are converted in place: the meters get row sets in the order of their numbers, the
-- rows of each (table, key) are pivoted into one row of the row set, and the hour totals are summed from
-- the minute rows (LATEST: the minute row with the greatest (event time, ingest seq)).

CREATE TABLE meter_rowsets (
    rowset       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type   TEXT NOT NULL,
    group_paths  TEXT NOT NULL
);
CREATE TABLE meter_slots (
    meter_num  INTEGER PRIMARY KEY REFERENCES meters (num),
    rowset     INTEGER NOT NULL REFERENCES meter_rowsets (rowset),
    slot       INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 3),
    UNIQUE (rowset, slot)
);

CREATE TABLE agg_sub_m (
    rowset INTEGER NOT NULL,
    day_us INTEGER NOT NULL,
    subject TEXT NOT NULL,
    time_us INTEGER NOT NULL,
    groups TEXT NOT NULL,
    n0  INTEGER,
    a0  INTEGER,
    b0  INTEGER,
    x0  REAL,
    n1  INTEGER,
    a1  INTEGER,
    b1  INTEGER,
    x1  REAL,
    n2  INTEGER,
    a2  INTEGER,
    b2  INTEGER,
    x2  REAL,
    n3  INTEGER,
    a3  INTEGER,
    b3  INTEGER,
    x3  REAL,
    PRIMARY KEY (rowset, day_us, subject, time_us, groups)
) WITHOUT ROWID;

CREATE TABLE agg_sub_h (
    rowset INTEGER NOT NULL,
    day_us INTEGER NOT NULL,
    subject TEXT NOT NULL,
    time_us INTEGER NOT NULL,
    n0  INTEGER,
    a0  INTEGER,
    b0  INTEGER,
    x0  REAL,
    n1  INTEGER,
    a1  INTEGER,
    b1  INTEGER,
    x1  REAL,
    n2  INTEGER,
    a2  INTEGER,
    b2  INTEGER,
    x2  REAL,
    n3  INTEGER,
    a3  INTEGER,
    b3  INTEGER,
    x3  REAL,
    PRIMARY KEY (rowset, day_us, subject, time_us)
) WITHOUT ROWID;

CREATE TABLE agg_all_m (
    rowset INTEGER NOT NULL,
    time_us INTEGER NOT NULL,
    groups TEXT NOT NULL,
    n0  INTEGER,
    a0  INTEGER,
    b0  INTEGER,
    x0  REAL,
    n1  INTEGER,
    a1  INTEGER,
    b1  INTEGER,
    x1  REAL,
    n2  INTEGER,
    a2  INTEGER,
    b2  INTEGER,
    x2  REAL,
    n3  INTEGER,
    a3  INTEGER,
    b3  INTEGER,
    x3  REAL,
    PRIMARY KEY (rowset, time_us, groups)
) WITHOUT ROWID;
CREATE TABLE agg_all_h (
    rowset INTEGER NOT NULL,
    time_us INTEGER NOT NULL,
    groups TEXT NOT NULL,
    n0  INTEGER,
    a0  INTEGER,
    b0  INTEGER,
    x0  REAL,
    n1  INTEGER,
    a1  INTEGER,
    b1  INTEGER,
    x1  REAL,
    n2  INTEGER,
    a2  INTEGER,
    b2  INTEGER,
    x2  REAL,
    n3  INTEGER,
    a3  INTEGER,
    b3  INTEGER,
    x3  REAL,
    PRIMARY KEY (rowset, time_us, groups)
) WITHOUT ROWID;
CREATE TABLE agg_all_d (
    rowset INTEGER NOT NULL,
    time_us INTEGER NOT NULL,
    groups TEXT NOT NULL,
    n0  INTEGER,
    a0  INTEGER,
    b0  INTEGER,
    x0  REAL,
    n1  INTEGER,
    a1  INTEGER,
    b1  INTEGER,
    x1  REAL,
    n2  INTEGER,
    a2  INTEGER,
    b2  INTEGER,
    x2  REAL,
    n3  INTEGER,
    a3  INTEGER,
    b3  INTEGER,
    x3  REAL,
    PRIMARY KEY (rowset, time_us, groups)
) WITHOUT ROWID;

CREATE TEMP TABLE migrate_slots AS
SELECT num, event_type, paths,
       (row_number() OVER w - 1) / 4 AS part, (row_number() OVER w - 1) % 4 AS slot
FROM (SELECT num, event_type,
             (SELECT json_group_array(value) FROM (SELECT value FROM json_each(meters.group_by) ORDER BY key)) AS paths
      FROM meters WHERE aggregation != 'UNIQUE_COUNT')
WINDOW w AS (PARTITION BY event_type, paths ORDER BY num);
INSERT INTO meter_rowsets (event_type, group_paths)
SELECT event_type, paths FROM migrate_slots GROUP BY event_type, paths, part ORDER BY min(num);
INSERT INTO meter_slots (meter_num, rowset, slot)
SELECT s.num, r.rowset, s.slot
FROM migrate_slots s
JOIN (SELECT rowset, event_type, group_paths,
             row_number() OVER (PARTITION BY event_type, group_paths ORDER BY rowset) - 1 AS part
      FROM meter_rowsets) r ON r.event_type = s.event_type AND r.group_paths = s.paths AND r.part = s.part;
CREATE TEMP TABLE migrate_kinds AS
SELECT s.rowset, max(CASE WHEN s.slot = 0 THEN m.aggregation END) AS k0, max(CASE WHEN s.slot = 1 THEN m.aggregation END) AS k1, max(CASE WHEN s.slot = 2 THEN m.aggregation END) AS k2, max(CASE WHEN s.slot = 3 THEN m.aggregation END) AS k3
FROM meter_slots s JOIN meters m ON m.num = s.meter_num GROUP BY s.rowset;

INSERT INTO agg_sub_m (rowset, day_us, subject, time_us, groups, n0, a0, b0, x0, n1, a1, b1, x1, n2, a2, b2, x2, n3, a3, b3, x3)
SELECT s.rowset, a.day_us, a.subject, a.time_us, a.groups,
       max(CASE WHEN s.slot = 0 THEN a.count END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 0 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 1 THEN a.count END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 1 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 2 THEN a.count END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 2 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 3 THEN a.count END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 3 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END)
FROM meter_sub_m a JOIN meter_slots s ON s.meter_num = a.meter_num JOIN meters m ON m.num = a.meter_num
GROUP BY s.rowset, a.day_us, a.subject, a.time_us, a.groups
ORDER BY s.rowset, a.day_us, a.subject, a.time_us, a.groups;
INSERT INTO agg_all_m (rowset, time_us, groups, n0, a0, b0, x0, n1, a1, b1, x1, n2, a2, b2, x2, n3, a3, b3, x3)
SELECT s.rowset, a.time_us, a.groups,
       max(CASE WHEN s.slot = 0 THEN a.count END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 0 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 1 THEN a.count END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 1 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 2 THEN a.count END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 2 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 3 THEN a.count END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 3 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END)
FROM meter_all_m a JOIN meter_slots s ON s.meter_num = a.meter_num JOIN meters m ON m.num = a.meter_num
GROUP BY s.rowset, a.time_us, a.groups
ORDER BY s.rowset, a.time_us, a.groups;
INSERT INTO agg_all_h (rowset, time_us, groups, n0, a0, b0, x0, n1, a1, b1, x1, n2, a2, b2, x2, n3, a3, b3, x3)
SELECT s.rowset, a.time_us, a.groups,
       max(CASE WHEN s.slot = 0 THEN a.count END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 0 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 1 THEN a.count END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 1 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 2 THEN a.count END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 2 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 3 THEN a.count END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 3 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END)
FROM meter_all_h a JOIN meter_slots s ON s.meter_num = a.meter_num JOIN meters m ON m.num = a.meter_num
GROUP BY s.rowset, a.time_us, a.groups
ORDER BY s.rowset, a.time_us, a.groups;
INSERT INTO agg_all_d (rowset, time_us, groups, n0, a0, b0, x0, n1, a1, b1, x1, n2, a2, b2, x2, n3, a3, b3, x3)
SELECT s.rowset, a.time_us, a.groups,
       max(CASE WHEN s.slot = 0 THEN a.count END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 0 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 0 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 1 THEN a.count END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 1 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 1 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 2 THEN a.count END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 2 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 2 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END),
       max(CASE WHEN s.slot = 3 THEN a.count END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END END),
       max(CASE WHEN s.slot = 3 THEN CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos WHEN m.aggregation = 'LATEST' THEN a.latest_seq END END),
       max(CASE WHEN s.slot = 3 THEN CASE m.aggregation WHEN 'MIN' THEN a.min WHEN 'MAX' THEN a.max WHEN 'LATEST' THEN a.latest END END)
FROM meter_all_d a JOIN meter_slots s ON s.meter_num = a.meter_num JOIN meters m ON m.num = a.meter_num
GROUP BY s.rowset, a.time_us, a.groups
ORDER BY s.rowset, a.time_us, a.groups;

INSERT INTO agg_sub_h (rowset, day_us, subject, time_us, n0, a0, b0, x0, n1, a1, b1, x1, n2, a2, b2, x2, n3, a3, b3, x3)
SELECT a.rowset, a.day_us, a.subject, a.time_us - a.time_us % 3600000000,
       sum(a.n0),
       CASE WHEN k.k0 = 'LATEST' THEN max(a.a0) ELSE sum(a.a0) END,
       CASE WHEN k.k0 = 'LATEST' THEN NULL ELSE sum(a.b0) END,
       CASE k.k0 WHEN 'MIN' THEN min(a.x0) WHEN 'MAX' THEN max(a.x0) END,
       sum(a.n1),
       CASE WHEN k.k1 = 'LATEST' THEN max(a.a1) ELSE sum(a.a1) END,
       CASE WHEN k.k1 = 'LATEST' THEN NULL ELSE sum(a.b1) END,
       CASE k.k1 WHEN 'MIN' THEN min(a.x1) WHEN 'MAX' THEN max(a.x1) END,
       sum(a.n2),
       CASE WHEN k.k2 = 'LATEST' THEN max(a.a2) ELSE sum(a.a2) END,
       CASE WHEN k.k2 = 'LATEST' THEN NULL ELSE sum(a.b2) END,
       CASE k.k2 WHEN 'MIN' THEN min(a.x2) WHEN 'MAX' THEN max(a.x2) END,
       sum(a.n3),
       CASE WHEN k.k3 = 'LATEST' THEN max(a.a3) ELSE sum(a.a3) END,
       CASE WHEN k.k3 = 'LATEST' THEN NULL ELSE sum(a.b3) END,
       CASE k.k3 WHEN 'MIN' THEN min(a.x3) WHEN 'MAX' THEN max(a.x3) END
FROM agg_sub_m a JOIN migrate_kinds k ON k.rowset = a.rowset
GROUP BY a.rowset, a.day_us, a.subject, a.time_us - a.time_us % 3600000000
ORDER BY a.rowset, a.day_us, a.subject, a.time_us - a.time_us % 3600000000;
UPDATE agg_sub_h SET x0 = (SELECT m.x0 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a0 IS NOT NULL ORDER BY m.a0 DESC, m.b0 DESC LIMIT 1),
    b0 = (SELECT m.b0 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a0 IS NOT NULL ORDER BY m.a0 DESC, m.b0 DESC LIMIT 1)
WHERE rowset IN (SELECT rowset FROM migrate_kinds WHERE k0 = 'LATEST');
UPDATE agg_sub_h SET x1 = (SELECT m.x1 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a1 IS NOT NULL ORDER BY m.a1 DESC, m.b1 DESC LIMIT 1),
    b1 = (SELECT m.b1 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a1 IS NOT NULL ORDER BY m.a1 DESC, m.b1 DESC LIMIT 1)
WHERE rowset IN (SELECT rowset FROM migrate_kinds WHERE k1 = 'LATEST');
UPDATE agg_sub_h SET x2 = (SELECT m.x2 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a2 IS NOT NULL ORDER BY m.a2 DESC, m.b2 DESC LIMIT 1),
    b2 = (SELECT m.b2 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a2 IS NOT NULL ORDER BY m.a2 DESC, m.b2 DESC LIMIT 1)
WHERE rowset IN (SELECT rowset FROM migrate_kinds WHERE k2 = 'LATEST');
UPDATE agg_sub_h SET x3 = (SELECT m.x3 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a3 IS NOT NULL ORDER BY m.a3 DESC, m.b3 DESC LIMIT 1),
    b3 = (SELECT m.b3 FROM agg_sub_m m WHERE m.rowset = agg_sub_h.rowset AND m.day_us = agg_sub_h.day_us AND m.subject = agg_sub_h.subject AND m.time_us >= agg_sub_h.time_us AND m.time_us < agg_sub_h.time_us + 3600000000 AND m.a3 IS NOT NULL ORDER BY m.a3 DESC, m.b3 DESC LIMIT 1)
WHERE rowset IN (SELECT rowset FROM migrate_kinds WHERE k3 = 'LATEST');

DROP TABLE migrate_slots;
DROP TABLE migrate_kinds;
DROP TABLE meter_sub_m;
DROP TABLE meter_all_m;
DROP TABLE meter_all_h;
DROP TABLE meter_all_d;
