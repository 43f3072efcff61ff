-- The claim position: a backend's next claim scans from where its previous
-- claim began, past the index entries of rows that other claims moved ahead,
-- for rollout.claim_rescan_interval; then from the oldest entry again.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET stats_fetch_consistency = none;
SET rollout.version = '10.1';
SELECT rollout_define_criteria('POSITION.0001');

-- The setting: 100 ms by default, 0 turns the position off.
SHOW rollout.claim_rescan_interval;
SET rollout.claim_rescan_interval = -1;
SET rollout.claim_rescan_interval = '1h';

-- 6000 due tasks. Other agents have claimed the first 5000 of them: their old
-- index entries stay in the way until VACUUM, which is kept away here.
ALTER TABLE rollout_task_q SET (autovacuum_enabled = false);
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
SELECT 'POSITION.0001', 'P-' || g, '2026-01-01'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 6000) g;
ANALYZE rollout_task_q;
UPDATE rollout_task_q SET available_date = now() + interval '5 minutes'
 WHERE transaction_id = 'POSITION.0001' AND data_key ~ '^P-' AND substr(data_key, 3)::int <= 5000;

-- Index pages of rollout_task_q read so far: those of the claim's scan, and
-- of its update (the key lookup and the new entries).
CREATE FUNCTION pg_temp.index_pages_read() RETURNS bigint LANGUAGE sql AS $$
	SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_tables
	 WHERE relid = 'rollout_task_q'::regclass
$$;
-- The first claim has no position: it walks the 5000 old entries.
SELECT pg_stat_force_next_flush();
SELECT pg_temp.index_pages_read() AS before \gset
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
SELECT pg_stat_force_next_flush();
SELECT pg_temp.index_pages_read() - :before AS from_the_start \gset

-- The next one starts where that one began: it reads a few pages.
SELECT pg_temp.index_pages_read() AS before \gset
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
SELECT pg_stat_force_next_flush();
SELECT pg_temp.index_pages_read() - :before AS from_the_position \gset

-- Without a position (interval 0), every claim walks them again.
SET rollout.claim_rescan_interval = 0;
SELECT pg_temp.index_pages_read() AS before \gset
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
SELECT pg_stat_force_next_flush();
SELECT pg_temp.index_pages_read() - :before AS without_a_position \gset
SET rollout.claim_rescan_interval = '1h';

SELECT :from_the_position * 3 < :from_the_start AS position_skips_old_entries,
       :from_the_position * 3 < :without_a_position AS interval_0_walks_them;

-- A row that becomes due behind the position (here: released from hold) is
-- not seen while the position is fresh ...
UPDATE rollout_task_q SET available_date = '2026-01-01', hold_flag = true
 WHERE data_key = 'P-1';
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
UPDATE rollout_task_q SET hold_flag = false WHERE data_key = 'P-1';
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
-- ... and is the first row claimed once the position has expired.
SET rollout.claim_rescan_interval = '10ms';
SELECT pg_sleep(0.05);
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
SET rollout.claim_rescan_interval = '1h';

-- A rollback forgets the position: the rows its claims had moved are back
-- where they were, behind it, and the next claim scans from the start.
BEGIN;
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
ROLLBACK;
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
-- So does one rolled back to a savepoint.
UPDATE rollout_task_q SET available_date = '2026-01-01' WHERE data_key = 'P-2';
BEGIN;
SAVEPOINT before_claim;
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
ROLLBACK TO before_claim;
SELECT data_key FROM rollout_claim('POSITION.0001', 1);
COMMIT;

-- Each version keeps its own position.
INSERT INTO rollout_task_q (transaction_id, data_key, available_date, rollout_version)
VALUES ('POSITION.0001', 'V1-1', '2026-01-01', '9.4');
SELECT data_key FROM rollout_claim('POSITION.0001', 1, '9.4');
SELECT data_key FROM rollout_claim('POSITION.0001', 1);

ALTER TABLE rollout_task_q RESET (autovacuum_enabled);
DELETE FROM rollout_task_q WHERE transaction_id = 'POSITION.0001';
SELECT rollout_drop_criteria('POSITION.0001');

-- Statistics gathered while a queue held one version do not send a new
-- version's claims through the old version's rows: with an index on
-- (transaction, version, due), the claim is written so that only that index
-- can serve it in order, whatever the statistics say. Here on a driver table
-- whose other index, on (transaction, due), the planner would otherwise
-- prefer.
CREATE TABLE skew_q (k bigint PRIMARY KEY, txn text, v rollout_version, due timestamptz,
                     held boolean NOT NULL DEFAULT false);
CREATE INDEX ON skew_q (txn, v, due, k) WHERE NOT held;
CREATE INDEX ON skew_q (txn, due, k) WHERE NOT held;
SELECT rollout_define_criteria('SKEW.0001', queue_table => 'skew_q', key_column => 'k',
                               due_column => 'due', version_column => 'v',
                               transaction_column => 'txn', hold_column => 'held');
INSERT INTO skew_q (k, txn, v, due)
SELECT g, 'SKEW.0001', '9.4', '2026-01-01'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 20000) g;
ANALYZE skew_q;
INSERT INTO skew_q (k, txn, v, due)
SELECT 20000 + g, 'SKEW.0001', '10.1', '2026-06-01'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 10) g;
SET rollout.claim_rescan_interval = 0;
SELECT pg_stat_force_next_flush();
SELECT idx_blks_hit + idx_blks_read AS before FROM pg_statio_user_tables WHERE relname = 'skew_q' \gset
SELECT k, rollout_version_format(v) FROM rollout_claim_rows('SKEW.0001', NULL::skew_q, 1, '10.1');
SELECT pg_stat_force_next_flush();
SELECT idx_blks_hit + idx_blks_read - :before < 30 AS skipped_the_old_version
  FROM pg_statio_user_tables WHERE relname = 'skew_q';
RESET rollout.claim_rescan_interval;
SELECT rollout_drop_criteria('SKEW.0001');
DROP TABLE skew_q;
