-- send_window: the hard rule behind the shared pace (storage/sqlite/coordination.py): the
-- latest admissions of a stream (a JSON array of Unix seconds, the database's clock), oldest
-- first, at most the limit. A send is admitted when fewer than the limit were admitted in the
-- last window; `admitted` and `checked_at` carry the statement's verdict to its RETURNING.
-- Pacing state of a fraction of a second: migrate-data does not copy it.
CREATE TABLE send_window (
    stream TEXT PRIMARY KEY,
    released TEXT NOT NULL,
    checked_at REAL NOT NULL,
    admitted INTEGER NOT NULL
);
