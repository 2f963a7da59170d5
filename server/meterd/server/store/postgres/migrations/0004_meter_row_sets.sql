-- Row sets (issue 23), in the SQLite backend's layout (its migration 0010 has the reasons): the meters of one
-- event type that group by the same paths share their pre-aggregate rows, each meter in a slot (a column
-- set: n{i}, a{i}, b{i}, x{i}) of its own, so an event that three meters read is one row upserted
-- once; per-subject hour totals over every group value make a one-subject query without group values read
-- at most 720 rows a subject-month. store/rowsets.py writes and reads the layout.
--
-- Rows are heap tuples in the order they were first written (time order), so one subject's rows of a month
-- sit on as many pages as rows: measured at 10M events, a one-subject hourly month read 10,000 minute rows
-- from about as many pages (1.45 s p50, 7.7 s p99). Its hour totals are at most 720 rows, on a table about
-- 1/14 the size of the minute rows at that density, which stays in shared buffers. The hour totals and the
-- all-subject tables are updated far more often than they grow (every event of a subject-hour updates one
-- row): fillfactor 70 leaves room on each page for those updates to stay HOT (no new index entry).
--
-- Existing aggregates are converted in place, as in SQLite's 0010: the meters get row sets in the order of
-- their numbers, the rows of each (table, key) are pivoted into one row of the row set, the hour totals
-- are summed from the minute rows (LATEST: the minute row with the greatest (event time, ingest seq)).

CREATE TABLE meter_rowsets (
    rowset       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type   TEXT NOT NULL,
    group_paths  TEXT NOT NULL                       -- JSON array of the group paths, in group-key order
);
CREATE TABLE meter_slots (
    meter_num  BIGINT PRIMARY KEY REFERENCES meters (num),
    rowset     BIGINT NOT NULL REFERENCES meter_rowsets (rowset),
    slot       INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 3),
    UNIQUE (rowset, slot)
);

CREATE TABLE agg_sub_m (
    rowset BIGINT NOT NULL,
    day_us BIGINT NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    time_us BIGINT NOT NULL,
    groups TEXT COLLATE "C" NOT NULL,
    n0  BIGINT,
    a0  BIGINT,
    b0  BIGINT,
    x0  DOUBLE PRECISION,
    n1  BIGINT,
    a1  BIGINT,
    b1  BIGINT,
    x1  DOUBLE PRECISION,
    n2  BIGINT,
    a2  BIGINT,
    b2  BIGINT,
    x2  DOUBLE PRECISION,
    n3  BIGINT,
    a3  BIGINT,
    b3  BIGINT,
    x3  DOUBLE PRECISION
);
CREATE TABLE agg_sub_h (
    rowset BIGINT NOT NULL,
    day_us BIGINT NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    time_us BIGINT NOT NULL,
    n0  BIGINT,
    a0  BIGINT,
    b0  BIGINT,
    x0  DOUBLE PRECISION,
    n1  BIGINT,
    a1  BIGINT,
    b1  BIGINT,
    x1  DOUBLE PRECISION,
    n2  BIGINT,
    a2  BIGINT,
    b2  BIGINT,
    x2  DOUBLE PRECISION,
    n3  BIGINT,
    a3  BIGINT,
    b3  BIGINT,
    x3  DOUBLE PRECISION
) WITH (fillfactor = 70);
CREATE TABLE agg_all_m (
    rowset BIGINT NOT NULL,
    time_us BIGINT NOT NULL,
    groups TEXT COLLATE "C" NOT NULL,
    n0  BIGINT,
    a0  BIGINT,
    b0  BIGINT,
    x0  DOUBLE PRECISION,
    n1  BIGINT,
    a1  BIGINT,
    b1  BIGINT,
    x1  DOUBLE PRECISION,
    n2  BIGINT,
    a2  BIGINT,
    b2  BIGINT,
    x2  DOUBLE PRECISION,
    n3  BIGINT,
    a3  BIGINT,
    b3  BIGINT,
    x3  DOUBLE PRECISION
) WITH (fillfactor = 70);
CREATE TABLE agg_all_h (
    rowset BIGINT NOT NULL,
    time_us BIGINT NOT NULL,
    groups TEXT COLLATE "C" NOT NULL,
    n0  BIGINT,
    a0  BIGINT,
    b0  BIGINT,
    x0  DOUBLE PRECISION,
    n1  BIGINT,
    a1  BIGINT,
    b1  BIGINT,
    x1  DOUBLE PRECISION,
    n2  BIGINT,
    a2  BIGINT,
    b2  BIGINT,
    x2  DOUBLE PRECISION,
    n3  BIGINT,
    a3  BIGINT,
    b3  BIGINT,
    x3  DOUBLE PRECISION
) WITH (fillfactor = 70);
CREATE TABLE agg_all_d (
    rowset BIGINT NOT NULL,
    time_us BIGINT NOT NULL,
    groups TEXT COLLATE "C" NOT NULL,
    n0  BIGINT,
    a0  BIGINT,
    b0  BIGINT,
    x0  DOUBLE PRECISION,
    n1  BIGINT,
    a1  BIGINT,
    b1  BIGINT,
    x1  DOUBLE PRECISION,
    n2  BIGINT,
    a2  BIGINT,
    b2  BIGINT,
    x2  DOUBLE PRECISION,
    n3  BIGINT,
    a3  BIGINT,
    b3  BIGINT,
    x3  DOUBLE PRECISION
) WITH (fillfactor = 70);

CREATE TEMP TABLE migrate_slots ON COMMIT DROP AS
SELECT num, event_type, paths,
       (row_number() OVER w - 1) / 4 AS part, (row_number() OVER w - 1) % 4 AS slot
FROM (SELECT num, event_type,
             (SELECT coalesce(json_agg(value ORDER BY key COLLATE "C"), '[]'::json)::text
              FROM json_each_text(meters.group_by::json)) AS paths
      FROM meters WHERE aggregation <> 'UNIQUE_COUNT') m
WINDOW w AS (PARTITION BY event_type, paths ORDER BY num);
INSERT INTO meter_rowsets (event_type, group_paths)
SELECT event_type, paths FROM migrate_slots GROUP BY event_type, paths, part ORDER BY min(num);
INSERT INTO meter_slots (meter_num, rowset, slot)
SELECT s.num, r.rowset, s.slot
FROM migrate_slots s
JOIN (SELECT rowset, event_type, group_paths,
             row_number() OVER (PARTITION BY event_type, group_paths ORDER BY rowset) - 1 AS part
      FROM meter_rowsets) r ON r.event_type = s.event_type AND r.group_paths = s.paths AND r.part = s.part;
CREATE TEMP TABLE migrate_kinds ON COMMIT DROP AS
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
ALTER TABLE agg_sub_m ADD CONSTRAINT agg_sub_m_pkey PRIMARY KEY (rowset, day_us, subject, time_us, groups);

INSERT INTO agg_sub_h (rowset, day_us, subject, time_us, n0, a0, b0, x0, n1, a1, b1, x1, n2, a2, b2, x2, n3, a3, b3, x3)
SELECT a.rowset, a.day_us, a.subject, a.time_us - a.time_us % 3600000000,
       sum(a.n0)::bigint,
       CASE WHEN k.k0 = 'LATEST' THEN max(a.a0) ELSE sum(a.a0)::bigint END,
       CASE WHEN k.k0 = 'LATEST' THEN NULL ELSE sum(a.b0)::bigint END,
       CASE k.k0 WHEN 'MIN' THEN min(a.x0) WHEN 'MAX' THEN max(a.x0) END,
       sum(a.n1)::bigint,
       CASE WHEN k.k1 = 'LATEST' THEN max(a.a1) ELSE sum(a.a1)::bigint END,
       CASE WHEN k.k1 = 'LATEST' THEN NULL ELSE sum(a.b1)::bigint END,
       CASE k.k1 WHEN 'MIN' THEN min(a.x1) WHEN 'MAX' THEN max(a.x1) END,
       sum(a.n2)::bigint,
       CASE WHEN k.k2 = 'LATEST' THEN max(a.a2) ELSE sum(a.a2)::bigint END,
       CASE WHEN k.k2 = 'LATEST' THEN NULL ELSE sum(a.b2)::bigint END,
       CASE k.k2 WHEN 'MIN' THEN min(a.x2) WHEN 'MAX' THEN max(a.x2) END,
       sum(a.n3)::bigint,
       CASE WHEN k.k3 = 'LATEST' THEN max(a.a3) ELSE sum(a.a3)::bigint END,
       CASE WHEN k.k3 = 'LATEST' THEN NULL ELSE sum(a.b3)::bigint END,
       CASE k.k3 WHEN 'MIN' THEN min(a.x3) WHEN 'MAX' THEN max(a.x3) END
FROM agg_sub_m a JOIN migrate_kinds k ON k.rowset = a.rowset
GROUP BY a.rowset, a.day_us, a.subject, a.time_us - a.time_us % 3600000000, k.k0, k.k1, k.k2, k.k3
ORDER BY a.rowset, a.day_us, a.subject, a.time_us - a.time_us % 3600000000;
ALTER TABLE agg_sub_h ADD CONSTRAINT agg_sub_h_pkey PRIMARY KEY (rowset, day_us, subject, time_us);
UPDATE agg_sub_h h SET x0 = (SELECT m.x0 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a0 IS NOT NULL ORDER BY m.a0 DESC, m.b0 DESC LIMIT 1),
    b0 = (SELECT m.b0 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a0 IS NOT NULL ORDER BY m.a0 DESC, m.b0 DESC LIMIT 1)
WHERE h.rowset IN (SELECT rowset FROM migrate_kinds WHERE k0 = 'LATEST');
UPDATE agg_sub_h h SET x1 = (SELECT m.x1 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a1 IS NOT NULL ORDER BY m.a1 DESC, m.b1 DESC LIMIT 1),
    b1 = (SELECT m.b1 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a1 IS NOT NULL ORDER BY m.a1 DESC, m.b1 DESC LIMIT 1)
WHERE h.rowset IN (SELECT rowset FROM migrate_kinds WHERE k1 = 'LATEST');
UPDATE agg_sub_h h SET x2 = (SELECT m.x2 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a2 IS NOT NULL ORDER BY m.a2 DESC, m.b2 DESC LIMIT 1),
    b2 = (SELECT m.b2 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a2 IS NOT NULL ORDER BY m.a2 DESC, m.b2 DESC LIMIT 1)
WHERE h.rowset IN (SELECT rowset FROM migrate_kinds WHERE k2 = 'LATEST');
UPDATE agg_sub_h h SET x3 = (SELECT m.x3 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a3 IS NOT NULL ORDER BY m.a3 DESC, m.b3 DESC LIMIT 1),
    b3 = (SELECT m.b3 FROM agg_sub_m m WHERE m.rowset = h.rowset AND m.day_us = h.day_us AND m.subject = h.subject AND m.time_us >= h.time_us AND m.time_us < h.time_us + 3600000000 AND m.a3 IS NOT NULL ORDER BY m.a3 DESC, m.b3 DESC LIMIT 1)
WHERE h.rowset IN (SELECT rowset FROM migrate_kinds WHERE k3 = 'LATEST');
ALTER TABLE agg_all_m ADD CONSTRAINT agg_all_m_pkey PRIMARY KEY (rowset, time_us, groups);
ALTER TABLE agg_all_h ADD CONSTRAINT agg_all_h_pkey PRIMARY KEY (rowset, time_us, groups);
ALTER TABLE agg_all_d ADD CONSTRAINT agg_all_d_pkey PRIMARY KEY (rowset, time_us, groups);

DROP TABLE meter_sub_m;
DROP TABLE meter_all_m;
DROP TABLE meter_all_h;
DROP TABLE meter_all_d;
