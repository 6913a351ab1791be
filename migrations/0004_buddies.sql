-- 0004_buddies: reserved for buddy pairing (filled in by that feature).
SELECT 1;
