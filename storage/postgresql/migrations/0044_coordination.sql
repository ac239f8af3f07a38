-- What several instances sharing one database coordinate through (storage/*/coordination.py).
-- job_runs: one row per (job, tick); the instance whose insert creates it runs that tick.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    tick BIGINT NOT NULL,
    instance TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (job, tick)
);
-- send_slots: sends taken per channel in one second of the database's clock (Unix seconds).
-- Rows live about a minute: the senders purge older seconds.
CREATE TABLE send_slots (
    channel TEXT NOT NULL,
    second BIGINT NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (channel, second)
);
