-- Pre-aggregates in the SQLite backend's layout (its migration 0007), so both backends upsert the rows of
-- the shared ingest fold (meters/fold.py) as they are.
--
-- Per-subject rows exist at minute level only, keyed (meter, day, subject, minute, groups): one subject's
-- range is one index seek per day of the range, and its hour and day windows are GROUP BY over its minute
-- rows. The per-subject day tables (meter_sub_d, meter_sub_distinct_d) are gone: they were sums of the
-- minute rows, and keeping them cost every ingest a second per-subject upsert.
-- A row holds only what its meter's aggregation needs; the other value columns are NULL: count always;
-- sum_units + sum_nanos / 1e9 for SUM and AVG; min for MIN; max for MAX; latest, latest_time_us and
-- latest_seq for LATEST. (Rows written before held every column for every aggregation.)
--
-- Existing rows are converted in place: per-subject minute rows get their day key, value columns that
-- their meter's aggregation does not use are cleared, and the per-subject day rows are dropped.

CREATE TABLE meter_sub_m_new (
    meter_num       BIGINT NOT NULL,
    day_us          BIGINT NOT NULL,                 -- time_us rounded down to the UTC day
    subject         TEXT   COLLATE "C" NOT NULL,
    time_us         BIGINT NOT NULL,                 -- the UTC minute
    groups          TEXT   COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    sum_units       BIGINT,
    sum_nanos       BIGINT,
    min             DOUBLE PRECISION,
    max             DOUBLE PRECISION,
    latest          DOUBLE PRECISION,
    latest_time_us  BIGINT,
    latest_seq      BIGINT
);
INSERT INTO meter_sub_m_new
SELECT a.meter_num, a.time_us - a.time_us % 86400000000, a.subject, a.time_us, a.groups, a.count,
       CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units END,
       CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos END,
       CASE WHEN m.aggregation = 'MIN' THEN a.min END,
       CASE WHEN m.aggregation = 'MAX' THEN a.max END,
       CASE WHEN m.aggregation = 'LATEST' THEN a.latest END,
       CASE WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END,
       CASE WHEN m.aggregation = 'LATEST' THEN a.latest_seq END
FROM meter_sub_m a JOIN meters m ON m.num = a.meter_num
ORDER BY 1, 2, 3, 4, 5;
DROP TABLE meter_sub_m;
ALTER TABLE meter_sub_m_new RENAME TO meter_sub_m;
ALTER TABLE meter_sub_m ADD CONSTRAINT meter_sub_m_pkey PRIMARY KEY (meter_num, day_us, subject, time_us, groups);

CREATE TABLE meter_sub_distinct_m_new (
    meter_num  BIGINT NOT NULL,
    day_us     BIGINT NOT NULL,
    subject    TEXT   COLLATE "C" NOT NULL,
    time_us    BIGINT NOT NULL,
    groups     TEXT   COLLATE "C" NOT NULL,
    value      TEXT   COLLATE "C" NOT NULL
);
INSERT INTO meter_sub_distinct_m_new
SELECT meter_num, time_us - time_us % 86400000000, subject, time_us, groups, value FROM meter_sub_distinct_m
ORDER BY 1, 2, 3, 4, 5, 6;
DROP TABLE meter_sub_distinct_m;
ALTER TABLE meter_sub_distinct_m_new RENAME TO meter_sub_distinct_m;
ALTER TABLE meter_sub_distinct_m
    ADD CONSTRAINT meter_sub_distinct_m_pkey PRIMARY KEY (meter_num, day_us, subject, time_us, groups, value);

DROP TABLE meter_sub_d;
DROP TABLE meter_sub_distinct_d;

UPDATE meter_all_m a SET
    sum_units = CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units END,
    sum_nanos = CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos END,
    min = CASE WHEN m.aggregation = 'MIN' THEN a.min END,
    max = CASE WHEN m.aggregation = 'MAX' THEN a.max END,
    latest = CASE WHEN m.aggregation = 'LATEST' THEN a.latest END,
    latest_time_us = CASE WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END,
    latest_seq = CASE WHEN m.aggregation = 'LATEST' THEN a.latest_seq END
FROM meters m WHERE m.num = a.meter_num AND m.aggregation NOT IN ('COUNT', 'UNIQUE_COUNT');
UPDATE meter_all_h a SET
    sum_units = CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units END,
    sum_nanos = CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos END,
    min = CASE WHEN m.aggregation = 'MIN' THEN a.min END,
    max = CASE WHEN m.aggregation = 'MAX' THEN a.max END,
    latest = CASE WHEN m.aggregation = 'LATEST' THEN a.latest END,
    latest_time_us = CASE WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END,
    latest_seq = CASE WHEN m.aggregation = 'LATEST' THEN a.latest_seq END
FROM meters m WHERE m.num = a.meter_num AND m.aggregation NOT IN ('COUNT', 'UNIQUE_COUNT');
UPDATE meter_all_d a SET
    sum_units = CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_units END,
    sum_nanos = CASE WHEN m.aggregation IN ('SUM', 'AVG') THEN a.sum_nanos END,
    min = CASE WHEN m.aggregation = 'MIN' THEN a.min END,
    max = CASE WHEN m.aggregation = 'MAX' THEN a.max END,
    latest = CASE WHEN m.aggregation = 'LATEST' THEN a.latest END,
    latest_time_us = CASE WHEN m.aggregation = 'LATEST' THEN a.latest_time_us END,
    latest_seq = CASE WHEN m.aggregation = 'LATEST' THEN a.latest_seq END
FROM meters m WHERE m.num = a.meter_num AND m.aggregation NOT IN ('COUNT', 'UNIQUE_COUNT');
