-- The summaries' reminder figures (reminder_counts, storage/postgresql/reminders.py) read the
-- outbox rows of a scope's units done in a span. Without this index they were found by a scan
-- of the outbox's rows of the counted statuses, whatever the scope. Led by (unit_code,
-- done_on), it finds exactly the scope's rows of the span. Its price: one more index entry
-- written per outbox row version.
CREATE INDEX reminder_outbox_unit_done ON reminder_outbox(unit_code, done_on);
