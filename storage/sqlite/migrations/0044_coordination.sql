-- What several instances sharing one database coordinate through (storage/*/coordination.py).
-- job_runs: one row per (job, tick); the instance whose insert creates it runs that tick.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    tick INTEGER NOT NULL,
    instance TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (job, tick)
);
-- send_pace: one evenly paced stream of sends per channel shared by every instance; last_at
-- is the release time (Unix seconds, the database's clock) of the latest send reserved.
CREATE TABLE send_pace (
    stream TEXT PRIMARY KEY,
    last_at REAL NOT NULL
);
