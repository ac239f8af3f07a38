-- Officials' evening summaries (scheduler/summaries.py).
--  * summary_prefs: per member, the daily summary (on unless turned off with /tomtat tat) and
--    the weekly digest (off unless turned on with /tomtat tuan bat). No row = the defaults.
--  * summary_runs: the ledger that makes sending exactly-once across restarts. One row per
--    (member, kind, local date), inserted (claimed) BEFORE anything is sent, so a second round
--    on the same day, in this process or after a restart, finds it and sends nothing again.
--    A summary is three outputs (message, chart, workbook); parts_done counts those delivered.
--    Status flow:
--      claimed  -> sending (right before one request) -> claimed (parts_done + 1) ... -> sent
--      sending  -> uncertain (found by a later round: the process died between a request and
--                  recording its answer; that part is never re-sent, so nothing arrives twice)
--      claimed/sending -> failed (the chat blocked the bot, or Telegram refused the request)
CREATE TABLE summary_prefs (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    daily INTEGER NOT NULL DEFAULT 1 CHECK (daily IN (0, 1)),
    weekly INTEGER NOT NULL DEFAULT 0 CHECK (weekly IN (0, 1)),
    changed_at TEXT NOT NULL            -- ISO local datetime
);

CREATE TABLE summary_runs (
    member_id INTEGER NOT NULL REFERENCES members(id),
    kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),
    local_date TEXT NOT NULL,           -- ISO local date the summary is for
    unit_code TEXT NOT NULL,            -- the scope it was built for
    chat_id INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'claimed' CHECK (status IN
        ('claimed', 'sending', 'sent', 'uncertain', 'failed')),
    parts_done INTEGER NOT NULL DEFAULT 0 CHECK (parts_done BETWEEN 0 AND 3),
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_at TEXT NOT NULL,           -- ISO local datetime
    done_at TEXT,
    error TEXT,                         -- error class only: never personal data
    PRIMARY KEY (member_id, kind, local_date)
);
CREATE INDEX summary_runs_day ON summary_runs(local_date, kind, status);
-- Every round first looks for parts left in flight by a crashed process: a tiny partial index.
CREATE INDEX summary_runs_in_flight ON summary_runs(member_id) WHERE status = 'sending';
