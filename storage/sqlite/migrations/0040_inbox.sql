-- Inbound events of webhook channels (Zalo OA today), and the Zalo OA token pair.
-- Times in this file are UTC, written as 'YYYY-MM-DDTHH:MM:SS.ffffffZ' so that text order is
-- time order (leases are compared in SQL).

-- inbox: every accepted webhook event, stored before the webhook answers 200.
--  * (channel, event_key) is UNIQUE: a channel's retry of the same event (same body) is stored
--    once, so it is handled once.
--  * person_id: the sender on that channel (NULL for events about nobody, e.g. receipts). One
--    person's events are handled one at a time, oldest (lowest id) first: only the oldest
--    unfinished row of a person can be claimed (storage/inbox.py).
--  * payload: the event body as received. It may hold personal data (the phone number of a
--    Zalo user_submit_info), so it is never logged, and it is cleared once the event is done.
--  Status flow:
--    pending --claim--> working (lease_until = now + lease, lease_token, attempts + 1)
--    working --> done                   the conversation answered (replies sent or recorded)
--    working --> pending (lease_until = not before: retry after a back-off)   it raised
--    working --> failed                 it raised on the last allowed attempt
--    working, lease expired --claim--> working (taken over: the worker died mid-event)
--  For a pending row, lease_until (if set) is the earliest time it may be claimed.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    event_key TEXT NOT NULL,
    person_id TEXT,
    kind TEXT NOT NULL,                 -- the event's name (user_send_text, follow, ...)
    payload TEXT,                       -- JSON as received; NULL once done
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'working', 'done', 'failed')),
    lease_until TEXT,
    lease_token TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    received_at TEXT NOT NULL,
    handled_at TEXT,
    error TEXT,                         -- error class only: never personal data
    UNIQUE (channel, event_key)
);
-- The claim looks only at unfinished rows, in id order, and per person.
CREATE INDEX inbox_open ON inbox(channel, id) WHERE state IN ('pending', 'working');
CREATE INDEX inbox_open_person ON inbox(channel, person_id, id) WHERE state IN ('pending', 'working');

-- The Zalo OA token pair (handlers/zalo/tokens.py). A refresh token works once, so the new pair
-- is written here before the new access token is used. One row per Zalo app.
--  seed_hash: sha256 of the ZALO_REFRESH_TOKEN setting the chain started from. When the
--  operator re-authorises and sets a new ZALO_REFRESH_TOKEN, the hashes differ and the stored
--  (dead) pair is ignored in favour of the new setting.
CREATE TABLE zalo_tokens (
    app_id TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    access_expires_at TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    seed_hash TEXT,
    saved_at TEXT NOT NULL
);
