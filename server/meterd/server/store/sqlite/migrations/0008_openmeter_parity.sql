-- A manual reset may change the usage period from its instant on (issue 13): the new interval and anchor,
-- NULL for a reset that keeps the period's interval (the anchor then follows retain_anchor as before).
ALTER TABLE entitlement_resets ADD COLUMN usage_period_interval TEXT;
ALTER TABLE entitlement_resets ADD COLUMN usage_period_anchor_us INTEGER;

-- A meter's own window size (OpenMeter's windowSize, issue 13): the smallest window a query of it may ask for.
ALTER TABLE meters ADD COLUMN window_size TEXT NOT NULL DEFAULT 'MINUTE';
