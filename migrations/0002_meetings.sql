-- 0002_meetings: meeting series, skips, co-hosts, RSVPs, self-reported attendance, and DM reachability.
-- Why: a series stores local wall-clock start + IANA zone + rule; UTC instants are derived. An occurrence
-- is named by its UTC start in epoch seconds. Attendance is the member's own record.

CREATE TABLE meetings (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id                INTEGER NOT NULL,
    group_id                INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    title                   TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    start_local             TEXT NOT NULL,
    timezone                TEXT NOT NULL,
    repeat                  TEXT NOT NULL CHECK (repeat IN ('once', 'weekly', 'biweekly', 'monthly')),
    monthly_by              TEXT NOT NULL DEFAULT 'weekday' CHECK (monthly_by IN ('weekday', 'date')),
    duration_minutes        INTEGER NOT NULL DEFAULT 60,
    voice_channel_id        INTEGER,
    link                    TEXT,
    organiser_id            INTEGER NOT NULL,
    created_at              INTEGER NOT NULL,
    cancelled_at            INTEGER,
    announcement_channel_id INTEGER,
    announcement_message_id INTEGER,
    event_id                INTEGER,
    event_occurrence        INTEGER,
    last_started            INTEGER
);
CREATE INDEX meetings_group ON meetings (group_id);
CREATE INDEX meetings_guild ON meetings (guild_id, cancelled_at);
CREATE INDEX meetings_organiser ON meetings (organiser_id);

CREATE TABLE meeting_cohosts (
    meeting_id              INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id                 INTEGER NOT NULL,
    added_at                INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_cohosts_user ON meeting_cohosts (user_id);

CREATE TABLE meeting_skips (
    meeting_id              INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    occurrence              INTEGER NOT NULL,
    note                    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (meeting_id, occurrence)
);

-- occurrence = 0 is a series-wide RSVP; a per-occurrence row overrides it for that occurrence.
CREATE TABLE rsvps (
    meeting_id              INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id                 INTEGER NOT NULL,
    occurrence              INTEGER NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('going', 'maybe', 'not_going')),
    updated_at              INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, user_id, occurrence)
);
CREATE INDEX rsvps_user ON rsvps (user_id);
CREATE INDEX rsvps_occurrence ON rsvps (meeting_id, occurrence);

CREATE TABLE attendance (
    meeting_id              INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id                 INTEGER NOT NULL,
    occurrence              INTEGER NOT NULL,
    at                      INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, user_id, occurrence)
);
CREATE INDEX attendance_user ON attendance (user_id);

-- Members whose DMs are closed (Discord 50007): we stop DMing them and say so at their next interaction.
CREATE TABLE member_flags (
    user_id                 INTEGER PRIMARY KEY,
    dms_closed_at           INTEGER
);
