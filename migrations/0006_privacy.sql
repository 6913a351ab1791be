-- 0006_privacy: members who left a server, so their data there is erased after a grace period unless they
-- come back. Why: data rights (SPEC "Data rights and privacy"): nothing is kept about people who are gone.

CREATE TABLE departures (
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    left_at     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX departures_user ON departures (user_id);
CREATE INDEX departures_left ON departures (left_at);
