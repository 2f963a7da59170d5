-- A manual reset may change the usage period from its instant on (issue 13): the new interval and anchor,
-- NULL for a reset that keeps the period's interval (the anchor then follows retain_anchor as before).
ALTER TABLE entitlement_resets ADD COLUMN usage_period_interval TEXT;
ALTER TABLE entitlement_resets ADD COLUMN usage_period_anchor_us INTEGER;
