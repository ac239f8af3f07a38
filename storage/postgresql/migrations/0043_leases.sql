-- SQLite's 0043 on PostgreSQL (its comments give the meaning): who holds a claimed outbox row or
-- summary run, and until when.
ALTER TABLE reminder_outbox ADD COLUMN claimed_by TEXT COLLATE "C", ADD COLUMN lease_until TEXT COLLATE "C";
ALTER TABLE summary_runs ADD COLUMN claimed_by TEXT COLLATE "C", ADD COLUMN lease_until TEXT COLLATE "C";
CREATE INDEX reminder_outbox_in_flight ON reminder_outbox(lease_until) WHERE status = 'sending';
