-- 0005_reminders: member-owned reminders, their delivery ledger, and each member's nudge preferences.
-- Why: a reminder exists only because the member set it. Every delivery is claimed in the ledger in the
-- same transaction that decides to send it, keyed (member, meeting, occurrence, kind): never twice.

CREATE TABLE reminders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL,
    guild_id        INTEGER NOT NULL,
    meeting_id      INTEGER REFERENCES meetings (id) ON DELETE CASCADE,
    group_id        INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    lead_minutes    INTEGER NOT NULL CHECK (lead_minutes BETWEEN 5 AND 20160),
    created_at      INTEGER NOT NULL,
    CHECK ((meeting_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (user_id, meeting_id, group_id, lead_minutes)
);
CREATE INDEX reminders_user ON reminders (user_id);
CREATE INDEX reminders_meeting ON reminders (meeting_id);
CREATE INDEX reminders_group ON reminders (group_id);

-- status: claimed (decided, being sent) -> sent | dropped | failed
CREATE TABLE deliveries (
    user_id         INTEGER NOT NULL,
    meeting_id      INTEGER NOT NULL,
    occurrence      INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'dropped', 'failed')),
    claimed_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, meeting_id, occurrence, kind)
);
CREATE INDEX deliveries_status ON deliveries (status);
CREATE INDEX deliveries_meeting ON deliveries (meeting_id, occurrence);

-- One row per member who has chosen anything; absent means the defaults (steady, no quiet hours, no alert).
CREATE TABLE reminder_prefs (
    user_id             INTEGER PRIMARY KEY,
    style               TEXT NOT NULL DEFAULT 'steady' CHECK (style IN ('steady', 'fading', 'off')),
    level               TEXT NOT NULL DEFAULT 'full' CHECK (level IN ('full', 'fewer', 'none')),
    offer_sent_at       INTEGER,
    offer_answered      INTEGER NOT NULL DEFAULT 0,
    offer_streak_start  INTEGER,
    last_welcome_back_at INTEGER,
    buddy_alert_for     INTEGER,
    buddy_alert         INTEGER NOT NULL DEFAULT 0,
    welcome_back        INTEGER NOT NULL DEFAULT 1,
    quiet_start         TEXT,
    quiet_end           TEXT,
    quiet_timezone      TEXT,
    suggestions_off     INTEGER NOT NULL DEFAULT 0
);

-- The "want me to remind you?" suggestion is shown once per meeting or group ('m:12', 'g:3').
CREATE TABLE reminder_suggestions (
    user_id         INTEGER NOT NULL,
    target          TEXT NOT NULL,
    shown_at        INTEGER NOT NULL,
    PRIMARY KEY (user_id, target)
);
