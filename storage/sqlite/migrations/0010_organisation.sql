-- Organisation: a tree of units of any depth, their figures and targets, teams with monthly
-- rosters, members with roles bound to a unit, and one-time invites.
CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES units(code),
    level TEXT NOT NULL DEFAULT '',
    population INTEGER CHECK (population IS NULL OR population >= 0),
    labour_force INTEGER CHECK (labour_force IS NULL OR labour_force >= 0),
    staff_count INTEGER CHECK (staff_count IS NULL OR staff_count >= 0),
    pay_points TEXT,            -- where people of this unit pay (agents, post office), for replies
    updated_at TEXT NOT NULL
);
CREATE INDEX units_parent ON units(parent_code);

-- Participants already covered at a date (seed 003 "as of 30/6/2023"), per scheme:
-- bhyt, bhxh_bb (compulsory), bhxh_tn (voluntary), bhtn (unemployment).
CREATE TABLE unit_baselines (
    unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
    scheme TEXT NOT NULL CHECK (scheme IN ('bhyt', 'bhxh_bb', 'bhxh_tn', 'bhtn')),
    as_of TEXT NOT NULL,
    participants INTEGER NOT NULL CHECK (participants >= 0),
    PRIMARY KEY (unit_code, scheme, as_of)
);

-- Targets as a rate (percent, decimal text such as '95' or '22.69') or a count, per scheme:
-- bhyt (of population), bhxh (compulsory + voluntary, of labour force), bhxh_tn, bhtn.
CREATE TABLE unit_targets (
    unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
    scheme TEXT NOT NULL CHECK (scheme IN ('bhyt', 'bhxh', 'bhxh_tn', 'bhtn')),
    period TEXT NOT NULL,       -- '2025' or a campaign code
    target_pct TEXT,
    target_count INTEGER CHECK (target_count IS NULL OR target_count >= 0),
    CHECK (target_pct IS NOT NULL OR target_count IS NOT NULL),
    PRIMARY KEY (unit_code, scheme, period)
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'official', 'team_leader', 'agent')),
    unit_code TEXT NOT NULL REFERENCES units(code),
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX members_user ON members(channel, user_id) WHERE user_id IS NOT NULL AND active = 1;
CREATE INDEX members_unit ON members(unit_code);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES units(code)
);

-- Seed 002: members change every month, so membership is per month ('YYYY-MM').
CREATE TABLE team_rosters (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members(id),
    is_leader INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, month, member_id)
);
CREATE INDEX team_rosters_member ON team_rosters(member_id, month);

CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY, -- sha256 of the code: a leaked database reveals no usable code
    role TEXT NOT NULL CHECK (role IN ('official', 'team_leader', 'agent')),
    unit_code TEXT NOT NULL REFERENCES units(code),
    team_id INTEGER REFERENCES teams(id),
    full_name TEXT,
    created_by INTEGER REFERENCES members(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by_member INTEGER REFERENCES members(id)
);
