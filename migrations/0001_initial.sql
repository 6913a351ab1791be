-- 0001_initial: servers, groups, memberships, the audit log and the bot's own state.
-- Why: the foundation every feature hangs off. Times are integer epoch seconds (UTC).

CREATE TABLE guild_settings (
    guild_id            INTEGER PRIMARY KEY,
    modlog_channel_id   INTEGER,
    helper_role_id      INTEGER,
    resources_text      TEXT,
    retention_days      INTEGER NOT NULL DEFAULT 90,
    timezone            TEXT,
    crisis_terms        TEXT NOT NULL DEFAULT '',
    bot_removed_at      INTEGER
);

CREATE TABLE groups (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id            INTEGER NOT NULL,
    name                TEXT NOT NULL,
    name_key            TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    channel_id          INTEGER NOT NULL,
    role_id             INTEGER,
    checkin_channel_id  INTEGER,
    buddy_channel_id    INTEGER,
    organiser_role_id   INTEGER,
    anonymity           TEXT NOT NULL DEFAULT 'open' CHECK (anonymity IN ('off', 'open', 'vetted')),
    timezone            TEXT,
    created_at          INTEGER NOT NULL,
    archived_at         INTEGER,
    UNIQUE (guild_id, name_key)
);
CREATE INDEX groups_guild ON groups (guild_id, archived_at);

CREATE TABLE memberships (
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL,
    joined_at           INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Moderator actions. Anonymous-post actions name the alias, never the author.
CREATE TABLE audit_log (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id            INTEGER NOT NULL,
    at                  INTEGER NOT NULL,
    actor_id            INTEGER,
    action              TEXT NOT NULL,
    detail              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, at);

-- Things to tell a member at their next interaction (closed DMs, changed meetings).
CREATE TABLE member_notices (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id             INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    text                TEXT NOT NULL,
    UNIQUE (user_id, text)
);

CREATE TABLE bot_state (
    key                 TEXT PRIMARY KEY,
    value               TEXT NOT NULL
);
