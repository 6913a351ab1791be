-- 0008_checkin_indexes: indexes shaped for what every /checkin does (write one row, read the member's week).
-- Why (bench/interactions.py, where a private /checkin was the slowest answer):
--   * Every index is written on every check-in. Private check-ins (most of them) have no group, and
--     checkins_group held a NULL for each that no query looks up: now it indexes only rows with a group. The
--     group's shared moods (`group_id = ? AND share = 'named'`) and the foreign key's ON DELETE SET NULL
--     (`group_id = ?`) both imply group_id IS NOT NULL, so SQLite still uses it for them.
--   * The member's week (`user_id = ? AND guild_id = ? AND created_at >= ?`, for its moods) read each row from
--     the table after finding it in checkins_user; with the mood in the index it is read from the index alone.

DROP INDEX checkins_group;
CREATE INDEX checkins_group ON checkins (group_id, share, created_at) WHERE group_id IS NOT NULL;

DROP INDEX checkins_user;
CREATE INDEX checkins_user ON checkins (user_id, guild_id, created_at, mood);
