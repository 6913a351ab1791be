-- 0004_buddies: buddy pairing profiles, confidential avoid lists, the cadence, rounds, pairings and their delivery.
-- Why: rounds are computed once, atomically, and stored with every pairing before anything is sent; the
-- Discord side (threads, member adds, messages) records its progress here before and after each call, so a
-- restart resumes a round instead of computing or announcing it twice. Times are integer epoch seconds (UTC).

-- The cadence of a group's rounds (/setup pairing). No row: rounds happen only with /buddy pair-now.
CREATE TABLE buddy_settings (
    group_id            INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    every_days          INTEGER NOT NULL CHECK (every_days IN (7, 14, 28)),
    weekday             INTEGER CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday; NULL = any day
    enabled             INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    next_round_at       INTEGER,                                  -- NULL while disabled
    updated_at          INTEGER NOT NULL
);
CREATE INDEX buddy_settings_next_round ON buddy_settings (enabled, next_round_at);

-- A member's opt-in for one group: what the match sees (role, about) and whether they are paused.
CREATE TABLE buddy_profiles (
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('peer', 'mentor', 'mentee')),
    about               TEXT NOT NULL DEFAULT '',
    timezone            TEXT,                                     -- NULL: the group's timezone
    paused_at           INTEGER,                                  -- NULL: taking part
    paused_until        INTEGER,                                  -- NULL while paused: until they rejoin
    joined_at           INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX buddy_profiles_user ON buddy_profiles (user_id);

-- "Never pair me with this person", per server. Confidential: it belongs to user_id alone, who is the only
-- one it is ever shown to. The other column is deliberately not named user_id: exporting or erasing the
-- avoided member's data must neither show them this row nor delete the setter's wish.
CREATE TABLE buddy_avoids (
    guild_id            INTEGER NOT NULL,
    user_id             INTEGER NOT NULL,
    avoided_id          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id, avoided_id)
);
CREATE INDEX buddy_avoids_user ON buddy_avoids (user_id);

-- One row per round of a group; round_index counts 0, 1, 2, … per group (the matching's notion of time).
-- due_at is the scheduled slot (or the moment a moderator asked), so a slot is never paired twice.
CREATE TABLE buddy_rounds (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    round_index         INTEGER NOT NULL,
    due_at              INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    started_by          TEXT NOT NULL CHECK (started_by IN ('schedule', 'moderator')),
    UNIQUE (group_id, round_index)
);

-- A pair or trio. A pairing made mid-round (a member whose buddy left, re-paired) belongs to the current
-- round. It ends when the next round starts or when fewer than two of its members remain.
CREATE TABLE buddy_pairings (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    round_id            INTEGER NOT NULL REFERENCES buddy_rounds (id) ON DELETE CASCADE,
    created_at          INTEGER NOT NULL,
    ended_at            INTEGER,
    -- How the members were introduced: still 'pending', in a private 'thread', or by 'dm' (no thread possible).
    via                 TEXT NOT NULL DEFAULT 'pending' CHECK (via IN ('pending', 'thread', 'dm')),
    -- Set just before asking Discord for the thread: a restart that finds it set looks for the thread
    -- ("Buddy chat #<id>") before ever asking again.
    thread_requested_at INTEGER,
    thread_id           INTEGER
);
CREATE INDEX buddy_pairings_group ON buddy_pairings (group_id, ended_at);
CREATE INDEX buddy_pairings_round ON buddy_pairings (round_id);

-- Who is (or was) in a pairing. left_at: they left the group or the server, or paused, mid-round.
CREATE TABLE buddy_pairing_members (
    pairing_id          INTEGER NOT NULL REFERENCES buddy_pairings (id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL,
    joined_at           INTEGER NOT NULL,
    left_at             INTEGER,
    in_thread_at        INTEGER,                                  -- added to the pairing's thread
    PRIMARY KEY (pairing_id, user_id)
);
CREATE INDEX buddy_pairing_members_user ON buddy_pairing_members (user_id);

-- Messages decided but not yet delivered, one per recipient (a thread gets one post for all of a pairing's).
-- A row is deleted once delivered. attempted_at is set just before sending: a restart that finds it set looks
-- for the message (its footer carries "ref <id>") before sending again.
--   opener   a new pairing's introduction           (pairing_id: the new pairing)
--   welcome  someone joins an existing pairing       (pairing_id: that pairing; newcomer_id: who joined)
--   departed the recipient's buddy stepped away      (pairing_id: the old pairing; next_pairing_id: where they are now)
--   unplaced the round could not pair the recipient  (no pairing)
CREATE TABLE buddy_outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('opener', 'welcome', 'departed', 'unplaced')),
    pairing_id          INTEGER REFERENCES buddy_pairings (id) ON DELETE CASCADE,
    next_pairing_id     INTEGER REFERENCES buddy_pairings (id) ON DELETE CASCADE,
    newcomer_id         INTEGER,                                  -- a second user column: the row is transient
    created_at          INTEGER NOT NULL,
    attempted_at        INTEGER
);
CREATE INDEX buddy_outbox_group ON buddy_outbox (group_id);
CREATE INDEX buddy_outbox_user ON buddy_outbox (user_id);
CREATE INDEX buddy_outbox_pairing ON buddy_outbox (pairing_id);
CREATE INDEX buddy_outbox_next_pairing ON buddy_outbox (next_pairing_id);
