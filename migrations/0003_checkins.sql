-- 0003_checkins: reserved for check-ins, anonymous posts and safety (filled in by that feature).
SELECT 1;
