-- SQLite's 0046 on PostgreSQL (its comments give the meaning): a channel's sends wait until
-- `paused_until` (UTC ISO 8601 text, compared byte-wise), for every instance.
CREATE TABLE channel_pauses (
    channel TEXT COLLATE "C" PRIMARY KEY,
    paused_until TEXT COLLATE "C" NOT NULL,
    reason TEXT NOT NULL
);
