-- The summaries' reminder figures (reminder_counts, storage/postgresql/reminders.py) read the
-- outbox rows of a scope's units done in a span. Without this index they were found by a scan
-- of the whole outbox, whatever the scope (a commune's figures 55 ms on 56,000 rows, 2 ms
-- with it). Led by (unit_code, done_on), it finds exactly the scope's rows of the span.
-- Partial: a row enters it when it is done (its final status), not when it is queued, so
-- queueing a round writes no more than before; the figures' `done_on BETWEEN $3 AND $4`
-- (strict comparisons) implies `done_on IS NOT NULL`, so the planner uses it.
CREATE INDEX reminder_outbox_unit_done ON reminder_outbox(unit_code, done_on) WHERE done_on IS NOT NULL;
