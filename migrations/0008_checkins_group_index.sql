-- 0008_checkins_group_index: index only the check-ins that belong to a group.
-- Why: private check-ins (most of them) have no group, and every index is written on every check-in: a
-- /checkin spent part of its answer time putting a NULL into an index no query looks up by NULL
-- (bench/interactions.py). The group's shared moods (`group_id = ? AND share = 'named'`) and the
-- foreign key's ON DELETE SET NULL (`group_id = ?`) both imply group_id IS NOT NULL, so SQLite still uses it.

DROP INDEX checkins_group;
CREATE INDEX checkins_group ON checkins (group_id, share, created_at) WHERE group_id IS NOT NULL;
