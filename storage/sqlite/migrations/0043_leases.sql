-- Leases on the reminder outbox and the summary ledger, so that several instances share them:
-- a claim records who holds the row (`claimed_by`: the instance id, hostname:pid:random) and
-- until when (`lease_until`: UTC ISO datetime, compares as text). A row left 'sending' is taken
-- over by another instance's recovery only once its lease has ended (a live instance's rows
-- never are); NULL (rows claimed before this migration) counts as ended.
ALTER TABLE reminder_outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE reminder_outbox ADD COLUMN lease_until TEXT;
ALTER TABLE summary_runs ADD COLUMN claimed_by TEXT;
ALTER TABLE summary_runs ADD COLUMN lease_until TEXT;
CREATE INDEX reminder_outbox_in_flight ON reminder_outbox(lease_until) WHERE status = 'sending';
