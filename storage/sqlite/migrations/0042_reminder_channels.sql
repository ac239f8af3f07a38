-- One reminder outbox for every channel (Telegram, Zalo OA, ZNS by phone), the legal basis of
-- an imported list, and the Zalo OA followers the channel choice reads. Forward-only: the rows
-- of 0021 are copied over unchanged (their new columns derived or left NULL).
-- Portable SQL on purpose (another engine ports these files): ALTER TABLE ADD COLUMN, CREATE
-- TABLE, INSERT ... SELECT, DROP and RENAME only.

-- The legal basis for contacting the people of a list (`bhxh-bot import cards --legal-basis`),
-- e.g. "Công văn 123/BHXH-QLT ngày 01/9/2026". NULL: the list may not be contacted by ZNS.
ALTER TABLE cards ADD COLUMN contact_basis TEXT;

-- People who follow the Zalo OA (by the id the bot's tables give them, chat_identities) and
-- when they last wrote: the OA may reply for free while that window is open. Written from the
-- Zalo worker's events (follow, unfollow, every message).
CREATE TABLE zalo_followers (
    user_id INTEGER PRIMARY KEY,
    following INTEGER NOT NULL DEFAULT 1 CHECK (following IN (0, 1)),
    last_interaction_at TEXT,       -- ISO UTC datetime of their last message
    changed_at TEXT NOT NULL
);

-- The outbox, rebuilt (SQLite cannot change a constraint in place):
--  * person_key: the person whatever the channel: their phone (0xxxxxxxxx) when known, else
--    '<channel>:<user id>'; with card_expiry (the earliest expiry the reminder is about) and
--    seq it is unique per campaign: one reminder per person, expiry and step;
--  * channel: chosen when queued, before anything is sent: 'telegram', 'zalo_oa' or 'zns';
--  * user_id: the chat person (NULL for 'zns'); phone: the number a ZNS goes to (else NULL);
--  * message_id is TEXT (Zalo's ids are strings); tracking_id names the row in Zalo's delivery
--    receipt; error_class keeps what the channel's answer meant (retry_later, never_retry,
--    stop_queue, unknown_outcome...), error the short reason; cost is what Zalo charged (đồng);
--  * statuses added: 'unknown' (a ZNS whose outcome is unknown: never resent automatically),
--    'delivered' (Zalo's receipt arrived), 'refused' (Zalo refused it; never retried).
CREATE TABLE reminder_outbox_v2 (
    id INTEGER PRIMARY KEY,
    campaign_code TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER,
    phone TEXT,
    person_key TEXT NOT NULL,
    card_expiry TEXT,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    unit_code TEXT,
    queued_at TEXT NOT NULL,
    queued_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'sending', 'sent', 'delivered', 'unknown', 'blocked', 'refused', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    attempt_id TEXT,
    next_attempt_at TEXT,
    claimed_at TEXT,
    done_at TEXT,
    done_on TEXT,
    message_id TEXT,
    tracking_id TEXT,
    error TEXT,
    error_class TEXT,
    cost INTEGER NOT NULL DEFAULT 0 CHECK (cost >= 0),
    delivered_at TEXT,
    CHECK ((channel = 'zns' AND phone IS NOT NULL) OR (channel <> 'zns' AND user_id IS NOT NULL)),
    UNIQUE (campaign_code, channel, user_id, seq),
    UNIQUE (campaign_code, person_key, card_expiry, seq)
);

INSERT INTO reminder_outbox_v2(id, campaign_code, channel, user_id, phone, person_key, card_expiry,
    seq, unit_code, queued_at, queued_on, status, attempts, attempt_id, next_attempt_at,
    claimed_at, done_at, done_on, message_id, tracking_id, error, error_class, cost, delivered_at)
SELECT o.id, o.campaign_code, o.channel, o.user_id, NULL,
       COALESCE((SELECT cp.phone FROM contact_phones cp
                  WHERE cp.channel = o.channel AND cp.user_id = o.user_id),
                o.channel || ':' || CAST(o.user_id AS TEXT)),
       NULL, o.seq, o.unit_code, o.queued_at, o.queued_on, o.status, o.attempts, o.attempt_id,
       o.next_attempt_at, o.claimed_at, o.done_at, o.done_on, CAST(o.message_id AS TEXT), NULL,
       o.error, NULL, 0, NULL
  FROM reminder_outbox o;

DROP TABLE reminder_outbox;
ALTER TABLE reminder_outbox_v2 RENAME TO reminder_outbox;

CREATE INDEX reminder_outbox_status ON reminder_outbox(status, id);
CREATE INDEX reminder_outbox_user ON reminder_outbox(channel, user_id, campaign_code);
CREATE INDEX reminder_outbox_done ON reminder_outbox(done_on);
CREATE INDEX reminder_outbox_person ON reminder_outbox(person_key, card_expiry);
CREATE UNIQUE INDEX reminder_outbox_tracking ON reminder_outbox(tracking_id);
CREATE INDEX cards_contact_basis ON cards(phone) WHERE contact_basis IS NOT NULL;
