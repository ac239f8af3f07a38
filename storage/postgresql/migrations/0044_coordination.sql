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
-- UNLOGGED: no WAL flush per send (measured: 4.8 ms a send logged, on a busy 2-core machine);
-- after a crash or on a promoted standby the table starts empty, which costs one send at most
-- being paced from "now" instead of from the last reservation.
CREATE UNLOGGED TABLE send_pace (
    stream TEXT PRIMARY KEY,
    last_at DOUBLE PRECISION NOT NULL
);
