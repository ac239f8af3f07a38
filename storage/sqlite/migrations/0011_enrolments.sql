-- Enrolments logged by agents, never deleted: withdrawals and voids are status changes with an
-- audit trail, and tallies count only active rows.
CREATE TABLE enrolments (
    id INTEGER PRIMARY KEY,
    agent_id INTEGER NOT NULL REFERENCES members(id),
    unit_code TEXT NOT NULL REFERENCES units(code),
    team_id INTEGER REFERENCES teams(id),
    campaign_code TEXT,
    scheme TEXT NOT NULL CHECK (scheme IN ('bhyt_household', 'bhyt_supported', 'bhxh_voluntary')),
    participant_name TEXT NOT NULL,
    participant_code TEXT NOT NULL,  -- 10-digit BHXH code or 12-digit CCCD
    code_kind TEXT NOT NULL CHECK (code_kind IN ('bhxh', 'cccd')),
    months INTEGER NOT NULL CHECK (months > 0),
    period_start TEXT NOT NULL,      -- ISO dates of the coverage paid for (duplicates, renewals)
    period_end TEXT NOT NULL,
    support_group TEXT,
    income INTEGER,
    household_position INTEGER,
    amount_expected INTEGER NOT NULL CHECK (amount_expected >= 0),
    amount_paid INTEGER NOT NULL CHECK (amount_paid >= 0),
    amount_reason TEXT,
    is_relative INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn', 'voided')),
    created_at TEXT NOT NULL,        -- ISO local datetime
    created_on TEXT NOT NULL         -- ISO local date, for day/month tallies
);
CREATE INDEX enrolments_code ON enrolments(participant_code, scheme);
CREATE INDEX enrolments_unit_day ON enrolments(unit_code, created_on);
CREATE INDEX enrolments_agent_day ON enrolments(agent_id, created_on);
CREATE INDEX enrolments_campaign ON enrolments(campaign_code, unit_code);

CREATE TABLE enrolment_events (
    id INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES enrolments(id),
    actor_member_id INTEGER REFERENCES members(id),
    action TEXT NOT NULL CHECK (action IN ('created', 'withdrawn', 'voided')),
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX enrolment_events_enrolment ON enrolment_events(enrolment_id);
