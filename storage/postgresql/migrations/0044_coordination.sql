-- What several instances sharing one database coordinate through (storage/*/coordination.py).
-- job_runs: one row per (job, tick); the instance whose insert creates it runs that tick.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    tick BIGINT NOT NULL,
    instance TEXT NOT NULL,
    started_at TEXT NOT NULL,  -- UTC, ISO 8601 (text, as in the SQLite schema: migrate-data copies it)
    PRIMARY KEY (job, tick)
);
-- send_pace: one evenly paced stream of sends per channel shared by every instance; last_at
-- is the release time (Unix seconds, the database's clock) of the latest send reserved.
-- UNLOGGED: no WAL flush per send (measured on a busy 2-core machine: 2.7-3.3 ms a send logged,
-- 0.5-0.9 ms unlogged, about one round trip). After a crash or on a promoted standby the
-- table starts empty: the reservations waiting then (a fraction of a second of sends) may
-- overlap new ones paced from "now", once.
CREATE UNLOGGED TABLE send_pace (
    stream TEXT PRIMARY KEY,
    last_at DOUBLE PRECISION NOT NULL
);
