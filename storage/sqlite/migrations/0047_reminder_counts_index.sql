-- The summaries' reminder figures (reminder_counts, storage/sqlite/reminders.py) read the
-- outbox rows of a scope's units done in a span. Without this index they were found through
-- reminder_outbox_status (every row of the counted statuses, of every unit, then each row
-- looked up): a commune's figures cost as much as the province's. Led by (unit_code, done_on),
-- it finds exactly the scope's rows of the span; the other columns the figures read make it
-- covering (no row is looked up). Partial: a row enters it when it is done (its final
-- status), not when it is queued, so queueing a round writes no more than before; the
-- figures' `done_on BETWEEN ? AND ?` implies `done_on IS NOT NULL`, so SQLite uses it.
CREATE INDEX reminder_outbox_unit_done ON reminder_outbox(
    unit_code, done_on, campaign_code, status, channel, user_id, phone, cost
) WHERE done_on IS NOT NULL;
