-- SQLite's 0042 on PostgreSQL: one reminder outbox for every channel (Telegram, Zalo OA, ZNS by
-- phone), the legal basis of an imported list, and the Zalo OA followers. The same tables,
-- columns, constraints and indexes as SQLite's file (whose comments give the meaning); where
-- SQLite rebuilds the outbox to change a constraint, PostgreSQL alters it in place, keeping
-- the rows and their ids (column order differs, which nothing reads).

ALTER TABLE cards ADD COLUMN contact_basis TEXT COLLATE "C";

CREATE TABLE zalo_followers (
    user_id BIGINT PRIMARY KEY,
    following INTEGER NOT NULL DEFAULT 1 CHECK (following IN (0, 1)),
    last_interaction_at TEXT COLLATE "C",
    changed_at TEXT COLLATE "C" NOT NULL
);

ALTER TABLE reminder_outbox
    ALTER COLUMN user_id DROP NOT NULL,
    ADD COLUMN phone TEXT COLLATE "C",
    ADD COLUMN person_key TEXT COLLATE "C",
    ADD COLUMN card_expiry TEXT COLLATE "C",
    ALTER COLUMN message_id TYPE TEXT COLLATE "C" USING message_id::text,
    ADD COLUMN tracking_id TEXT COLLATE "C",
    ADD COLUMN error_class TEXT COLLATE "C",
    ADD COLUMN cost BIGINT NOT NULL DEFAULT 0 CHECK (cost >= 0),
    ADD COLUMN delivered_at TEXT COLLATE "C";

-- Existing (chat) rows: the person is their proved phone, else '<channel>:<user id>'.
UPDATE reminder_outbox o
   SET person_key = COALESCE((SELECT cp.phone FROM contact_phones cp
                               WHERE cp.channel = o.channel AND cp.user_id = o.user_id),
                             o.channel || ':' || o.user_id::text);

ALTER TABLE reminder_outbox
    ALTER COLUMN person_key SET NOT NULL,
    DROP CONSTRAINT reminder_outbox_status_check,
    ADD CONSTRAINT reminder_outbox_status_check CHECK (status IN
        ('pending', 'sending', 'sent', 'delivered', 'unknown', 'blocked', 'refused', 'failed', 'skipped')),
    ADD CONSTRAINT reminder_outbox_recipient_check
        CHECK ((channel = 'zns' AND phone IS NOT NULL) OR (channel <> 'zns' AND user_id IS NOT NULL)),
    ADD CONSTRAINT reminder_outbox_person_expiry_seq UNIQUE (campaign_code, person_key, card_expiry, seq);

CREATE INDEX reminder_outbox_person ON reminder_outbox(person_key, card_expiry);
CREATE UNIQUE INDEX reminder_outbox_tracking ON reminder_outbox(tracking_id);
CREATE INDEX cards_contact_basis ON cards(phone) WHERE contact_basis IS NOT NULL;
