-- 0007_dm_channels: the id of each member's DM channel with the bot, once Discord has given it.
-- Why: a DM is two requests when the channel must be opened first (POST /users/@me/channels, then the
-- message) and one when its id is known. A reminder fan-out to 5,000 members spent half its requests, and
-- half of Discord's rate limit, opening channels it had opened before (bench/fanout.py). Discord keeps a
-- member's DM channel with a bot for good, so the id stays right; if it ever stops working the bot opens it
-- again and stores the new id. The row is the member's (member_flags is erased with their data).

ALTER TABLE member_flags ADD COLUMN dm_channel_id INTEGER;
