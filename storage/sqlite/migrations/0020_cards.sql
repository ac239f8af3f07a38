-- Lapsed-card lists handed out by BHXH offices (bot/cardimport.py), one row per person,
-- upserted by BHXH code so a monthly re-import updates rather than duplicates.
CREATE TABLE cards (
    bhxh_code TEXT PRIMARY KEY CHECK (length(bhxh_code) = 10),
    card_code TEXT,                 -- e.g. GD4848423000076: the group prefix picks the cost rule
    household_code TEXT,            -- links the members of one household
    full_name TEXT NOT NULL,
    birth_date TEXT,                -- ISO date, or NULL when the list gives only a year
    birth_year INTEGER,
    sex TEXT CHECK (sex IS NULL OR sex IN ('nam', 'nu')),
    phone TEXT,                     -- normalised 0xxxxxxxxx; NULL when the list has none
    address TEXT,
    unit_code TEXT NOT NULL,        -- not a foreign key: lists may arrive before the unit tree
    valid_from TEXT,
    valid_to TEXT NOT NULL,         -- ISO date, last day of validity
    source TEXT,                    -- file name of the last import that changed the row
    imported_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cards_phone ON cards(phone) WHERE phone IS NOT NULL;
CREATE INDEX cards_household ON cards(household_code) WHERE household_code IS NOT NULL;
CREATE INDEX cards_valid_to ON cards(valid_to);
CREATE INDEX cards_unit_valid_to ON cards(unit_code, valid_to);

-- A newer import showing a later expiry: evidence of a renewal ("renewed after a reminder").
CREATE TABLE card_expiry_changes (
    id INTEGER PRIMARY KEY,
    bhxh_code TEXT NOT NULL REFERENCES cards(bhxh_code) ON DELETE CASCADE,
    old_valid_to TEXT NOT NULL,
    new_valid_to TEXT NOT NULL,
    changed_at TEXT NOT NULL,       -- ISO local datetime
    changed_on TEXT NOT NULL        -- ISO local date
);
CREATE INDEX card_expiry_changes_code ON card_expiry_changes(bhxh_code);
CREATE INDEX card_expiry_changes_day ON card_expiry_changes(changed_on);

-- A phone a chat user proved by sharing their own contact. Cards are linked through it (the
-- cards with that phone, and every card of their households), so a re-import that adds a
-- household member or changes a phone is reflected without re-linking.
CREATE TABLE contact_phones (
    channel TEXT NOT NULL DEFAULT 'telegram',
    user_id INTEGER NOT NULL,
    phone TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX contact_phones_phone ON contact_phones(phone);

-- Every (user, card) link: own cards by phone, plus the rest of their households.
CREATE VIEW card_links AS
    SELECT cp.channel AS channel, cp.user_id AS user_id, c.bhxh_code AS bhxh_code
      FROM contact_phones cp JOIN cards c ON c.phone = cp.phone
    UNION
    SELECT cp.channel, cp.user_id, m.bhxh_code
      FROM contact_phones cp
      JOIN cards c ON c.phone = cp.phone AND c.household_code IS NOT NULL
      JOIN cards m ON m.household_code = c.household_code;
