-- channel_pauses: a channel whose sends wait, for every instance sharing the database, until
-- `paused_until` (UTC ISO 8601, compares as text, as `lease_until`): ZNS after Zalo said the day's
-- quota is used up or refused a send at night (bot/domain/zns.py decides when; this only
-- keeps it). A pause only ever moves later. Real state: migrate-data copies it.
CREATE TABLE channel_pauses (
    channel TEXT PRIMARY KEY,
    paused_until TEXT NOT NULL,
    reason TEXT NOT NULL
);
