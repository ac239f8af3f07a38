-- Organisation, continued: what joining and member administration need beyond 0010.
--  * members.title: "Chức danh, đơn vị công tác" of seed 002 rosters (shown in member lists).
--  * invites.member_id: an invite that lets a person claim a member imported from a roster
--    (seed 002: rosters are typed before people have Telegram), so tallies stay on one row.
--  * invites.created_by_user / channel: admins come from ADMIN_TELEGRAM_IDS and have no member
--    row, yet every invite must say who made it.
--  * member_events: the audit trail of joins, imports, role/unit changes and deactivations.
--  * join_failures: failed /thamgia attempts, to throttle guessing (restart-safe).
ALTER TABLE members ADD COLUMN title TEXT;

ALTER TABLE invites ADD COLUMN member_id INTEGER REFERENCES members(id);
ALTER TABLE invites ADD COLUMN created_by_user INTEGER;
ALTER TABLE invites ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
CREATE INDEX invites_created ON invites(created_at);

CREATE TABLE member_events (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    action TEXT NOT NULL CHECK (action IN (
        'created', 'imported', 'joined', 'claimed', 'role_changed', 'unit_changed', 'deactivated'
    )),
    old_value TEXT,
    new_value TEXT,
    actor_member_id INTEGER REFERENCES members(id),
    actor_user_id INTEGER,           -- chat user id of the actor (NULL: command line import)
    actor_channel TEXT,
    at TEXT NOT NULL                 -- ISO local datetime
);
CREATE INDEX member_events_member ON member_events(member_id, at);

CREATE TABLE join_failures (
    channel TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    at TEXT NOT NULL                 -- ISO local datetime
);
CREATE INDEX join_failures_user ON join_failures(channel, user_id, at);
