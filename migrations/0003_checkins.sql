-- 0003_checkins: the check-in journal, anonymous posts and their moderation, and the escalation ladder.
-- Why: check-ins are the members' own record; anonymous posts must not be tied to their author by anything
-- in this database without the secret key that lives outside it. So:
--   * `checkins` holds private and named check-ins under `user_id`.
--   * An anonymous check-in writes NO row with the member's id. Its journal entry is its `anon_posts` row,
--     found again by `author_key` = HMAC(secret, guild, user). That row has no link to `checkins`, and holds
--     its release and publish times, never the time it was written (`due_at` exists only while it waits in
--     the queue and is cleared when it goes out).
-- Columns holding a Discord user id are named `user_id` (or end in `_user_id`); columns holding an author's
-- HMAC are named `author_key`, so the data-rights feature can walk the schema. Times are epoch seconds (UTC).

CREATE TABLE checkins (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id            INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    group_id            INTEGER REFERENCES groups (id) ON DELETE SET NULL,
    mood                INTEGER NOT NULL CHECK (mood BETWEEN 1 AND 5),
    note                TEXT,
    content_warning     TEXT,
    share               TEXT NOT NULL CHECK (share IN ('private', 'named')),
    created_at          INTEGER NOT NULL,
    channel_id          INTEGER,
    message_id          INTEGER
);
CREATE INDEX checkins_user ON checkins (user_id, guild_id, created_at);
CREATE INDEX checkins_group ON checkins (group_id, share, created_at);
CREATE INDEX checkins_guild ON checkins (guild_id, created_at);

-- One alias per author per group per week, unique in that group and week ("Quiet Heron", "Quiet Heron 7").
CREATE TABLE anon_aliases (
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    week                INTEGER NOT NULL,
    author_key          TEXT NOT NULL,
    alias               TEXT NOT NULL,
    PRIMARY KEY (group_id, week, author_key),
    UNIQUE (group_id, week, alias)
);
CREATE INDEX anon_aliases_author ON anon_aliases (author_key);

-- Anonymous check-ins (mood set) and anonymous replies in their threads (parent_id set).
-- status: pending (queued, due_at set) -> sending -> published | held (vetted: waiting in the mod-log)
--         | withheld (anonymity turned off, group archived or author blocked before it went out) | failed;
--         held -> approving -> published (a crash mid-approval goes back to held) | rejected;
--         published -> removed.
CREATE TABLE anon_posts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id            INTEGER NOT NULL,
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    parent_id           INTEGER REFERENCES anon_posts (id) ON DELETE CASCADE,
    author_key          TEXT NOT NULL,
    alias               TEXT NOT NULL,
    mood                INTEGER CHECK (mood BETWEEN 1 AND 5),
    note                TEXT,
    content_warning     TEXT,
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (
                            status IN ('pending', 'sending', 'held', 'approving', 'published', 'rejected',
                                       'removed', 'withheld', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    due_at              INTEGER,
    released_at         INTEGER,
    published_at        INTEGER,
    channel_id          INTEGER,
    message_id          INTEGER,
    thread_id           INTEGER,
    modlog_channel_id   INTEGER,
    modlog_message_id   INTEGER,
    reports             INTEGER NOT NULL DEFAULT 0,
    CHECK ((parent_id IS NULL) = (mood IS NOT NULL))
);
CREATE INDEX anon_posts_author ON anon_posts (guild_id, author_key);
CREATE INDEX anon_posts_group ON anon_posts (group_id, status, published_at);
CREATE INDEX anon_posts_parent ON anon_posts (parent_id);
CREATE INDEX anon_posts_queue ON anon_posts (status, due_at);
CREATE INDEX anon_posts_message ON anon_posts (message_id);
CREATE INDEX anon_posts_thread ON anon_posts (thread_id);

-- A moderator's block of an anonymous author, by key; the alias is the one they were blocked under.
CREATE TABLE anon_blocks (
    guild_id            INTEGER NOT NULL,
    author_key          TEXT NOT NULL,
    alias               TEXT NOT NULL,
    blocked_until       INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (guild_id, author_key)
);

-- Reports of anonymous posts, one per reporter per post. reporter_key = HMAC(secret, post, reporter): it
-- stops repeats without recording who reported, and cannot be matched to an author_key.
CREATE TABLE anon_reports (
    post_id             INTEGER NOT NULL REFERENCES anon_posts (id) ON DELETE CASCADE,
    reporter_key        TEXT NOT NULL,
    reported_at         INTEGER NOT NULL,
    PRIMARY KEY (post_id, reporter_key)
);

-- "Ask a person to reach out": the member consented to being contacted by the server's peer helpers.
-- status: open -> claimed | cancelled. escalated_at is set when nobody claimed it in time and the
-- moderators were pinged.
CREATE TABLE escalations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id            INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'cancelled')),
    created_at          INTEGER NOT NULL,
    escalate_at         INTEGER NOT NULL,
    escalated_at        INTEGER,
    helper_user_id      INTEGER,
    claimed_at          INTEGER,
    channel_id          INTEGER,
    message_id          INTEGER
);
CREATE INDEX escalations_user ON escalations (user_id, guild_id, status);
CREATE INDEX escalations_helper ON escalations (helper_user_id);
CREATE INDEX escalations_open ON escalations (status, escalate_at);
