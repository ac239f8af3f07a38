-- send_window: the hard rule behind the shared pace (storage/postgresql/coordination.py): the
-- latest admissions of a stream (Unix seconds, the database's clock), oldest first, at most
-- the limit. A send is admitted when fewer than the limit were admitted in the last window;
-- `admitted` and `checked_at` carry the last statement's verdict to its RETURNING.
-- UNLOGGED as send_pace: a fraction of a second of pacing state, not worth a WAL flush a send;
-- migrate-data does not copy it.
CREATE UNLOGGED TABLE send_window (
    stream TEXT PRIMARY KEY,
    released DOUBLE PRECISION[] NOT NULL,
    checked_at DOUBLE PRECISION NOT NULL,
    admitted BOOLEAN NOT NULL
);
