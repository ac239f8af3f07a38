-- Reminders: who does not want them, who blocked the bot, the outbox of the fan-out, and
-- "I have renewed" claims waiting for an agent. Counts are derived from these rows.

-- /dunglai and the "Không nhận nhắc nữa" button set opted_out = 1; /nhac sets it back to 0.
CREATE TABLE reminder_prefs (
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER NOT NULL,
    opted_out INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),
    changed_at TEXT NOT NULL,
    changed_on TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);

-- Telegram answered 403 (the person blocked the bot): never message them again, until they
-- come back and ask for reminders with /nhac (cleared_at set).
CREATE TABLE reminder_blocks (
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER NOT NULL,
    blocked_at TEXT NOT NULL,
    blocked_on TEXT NOT NULL,
    cleared_at TEXT,
    PRIMARY KEY (channel, user_id)
);

-- One row per reminder per person: seq is the person's n-th reminder in the campaign, so
-- queueing twice cannot create a second row. Status flow:
--   pending -> sending (claimed with attempt_id, right before the one request)
--           -> sent | blocked | failed | pending again (429 or transient error)
--   pending -> skipped (opted out, blocked, renewed or campaign over before it went out)
--   sending -> pending (found by a later round: the process died during the request; it is
--              sent again, see scheduler/reminders.py)
CREATE TABLE reminder_outbox (
    id INTEGER PRIMARY KEY,
    campaign_code TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    unit_code TEXT,
    queued_at TEXT NOT NULL,
    queued_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'sending', 'sent', 'blocked', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    attempt_id TEXT,
    next_attempt_at TEXT,           -- ISO aware datetime; NULL = as soon as allowed
    claimed_at TEXT,
    done_at TEXT,                   -- ISO local datetime of the final status
    done_on TEXT,                   -- ISO local date of the final status
    message_id INTEGER,
    error TEXT,                     -- error class only: never personal data
    UNIQUE (campaign_code, channel, user_id, seq)
);
CREATE INDEX reminder_outbox_status ON reminder_outbox(status, id);
CREATE INDEX reminder_outbox_user ON reminder_outbox(channel, user_id, campaign_code);
CREATE INDEX reminder_outbox_done ON reminder_outbox(done_on);

-- "Tôi đã gia hạn": one row per card the person said they renewed, for an agent to confirm
-- (by logging the enrolment) or reject. Pending and confirmed claims pause reminders for
-- that card at that expiry.
CREATE TABLE renewal_claims (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER NOT NULL,
    bhxh_code TEXT NOT NULL REFERENCES cards(bhxh_code) ON DELETE CASCADE,
    card_valid_to TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    claimed_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'rejected')),
    decided_by INTEGER,
    decided_at TEXT,
    UNIQUE (bhxh_code, card_valid_to, channel, user_id)
);
CREATE INDEX renewal_claims_code ON renewal_claims(bhxh_code, card_valid_to);
