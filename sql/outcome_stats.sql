-- rollout_stats: what claims, completions and retries did, per queue table,
-- transaction and row version, counted when their transaction commits. The
-- counters live in shared memory, so they need shared_preload_libraries: the
-- test clusters preload (outcome_stats.out); a server without it refuses the
-- view with 55000 (outcome_stats_1.out).
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SELECT current_setting('shared_preload_libraries') ~ 'rollout_ext' AS preloaded \gset
\if :preloaded
SELECT rollout_stats_reset();
SET rollout.claim_rescan_interval = 0;
SELECT rollout_register_version('9.4'), rollout_register_version('10.1');
SELECT rollout_define_criteria('STATS.V', transaction_id => 'STATS', batch_size => 10,
                               lease => '1 hour'),
       rollout_define_criteria('STATS.BASE', transaction_id => 'STATS', base_version => true,
                               lease => '1 hour'),
       rollout_define_criteria('STATS.SHORT', transaction_id => 'STATS.SHORT',
                               lease => '10 milliseconds');
-- Four due rows of each version and two untagged ones.
BEGIN;
SET LOCAL rollout.restoring = on;
INSERT INTO rollout_task_q (transaction_id, data_key, available_date, rollout_version)
SELECT 'STATS', v || '-' || g, now() - interval '1 minute', nullif(v, 'none')::rollout_version
  FROM unnest(ARRAY['9.4', '10.1']) v, generate_series(1, 4) g
UNION ALL
SELECT 'STATS', 'none-' || g, now() - interval '1 minute', NULL FROM generate_series(1, 2) g;
COMMIT;
CREATE VIEW stats_now AS
SELECT coalesce(transaction_id, '(row gone)') AS transaction_id,
       coalesce(rollout_version_format(version), '(untagged)') AS version,
       claimed, completed, retried, refused, expired, parked
  FROM rollout_stats WHERE queue_table = 'rollout_task_q'::regclass
 ORDER BY 1, 2;

-- V2 claims its four rows, completes two, retries one and keeps one.
CREATE TEMP TABLE v2 AS
SELECT task_q_key, data_key, claim_token FROM rollout_claim('STATS.V', 4, as_version => '10.1');
SELECT data_key, rollout_complete(task_q_key, claim_token) FROM v2 WHERE data_key IN ('10.1-1', '10.1-2');
SELECT rollout_retry(task_q_key, claim_token, '1 hour') FROM v2 WHERE data_key = '10.1-3';
-- Stale tokens are refused: one of a completed row (gone), one of the row
-- still leased (counted under its version).
SELECT rollout_complete(task_q_key, claim_token) AS again FROM v2 WHERE data_key = '10.1-1';
SELECT rollout_complete(task_q_key, gen_random_uuid()) AS wrong_token FROM v2 WHERE data_key = '10.1-4';
SELECT * FROM stats_now;

-- A claim whose transaction rolls back is not counted, nor one in a
-- subtransaction that rolls back.
BEGIN;
SELECT count(*) AS rolled_back FROM rollout_claim('STATS.V', 10, as_version => '9.4');
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT count(*) AS undone FROM rollout_claim('STATS.V', 1, as_version => '9.4');
ROLLBACK TO s;
SELECT count(*) AS kept FROM rollout_claim('STATS.V', 1, as_version => '9.4');
RELEASE s;
COMMIT;
SELECT * FROM stats_now WHERE version = '9.4.0.0.0.0';

-- A base-version agent of V2 takes V1's and the untagged rows: they count for
-- the rows' versions, not the claimer's.
SELECT count(*) AS base_claimed FROM rollout_claim('STATS.BASE', 10, as_version => '10.1');
SELECT * FROM stats_now;

-- A row claimed again while an earlier claim's token is on it (the lease
-- ran out) counts as expired.
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
VALUES ('STATS.SHORT', 'short-1', '10.1');
SELECT count(*) AS first FROM rollout_claim('STATS.SHORT', 1, as_version => '10.1');
SELECT pg_sleep(0.05);
CREATE TEMP TABLE again AS
SELECT task_q_key, claim_token FROM rollout_claim('STATS.SHORT', 1, as_version => '10.1');
SELECT rollout_complete(task_q_key, claim_token) FROM again;
SELECT * FROM stats_now WHERE transaction_id = 'STATS.SHORT';

-- A retry of a row out of attempts parks it: counted as parked, not retried.
SELECT rollout_define_criteria('STATS.PARK', lease => '1 hour', max_attempts => 2);
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
VALUES ('STATS.PARK', 'park-1', '10.1');
SELECT rollout_retry(task_q_key, claim_token, '0') AS first_retry
  FROM rollout_claim('STATS.PARK', 1, as_version => '10.1');
SELECT rollout_retry(task_q_key, claim_token, '0') AS parking_retry
  FROM rollout_claim('STATS.PARK', 1, as_version => '10.1');
SELECT * FROM stats_now WHERE transaction_id = 'STATS.PARK';

-- The statement claims and completes exactly as the direct path counts.
SET rollout.direct_claim = off;
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
SELECT 'STATS.SHORT', 'short-s' || g, '10.1' FROM generate_series(1, 2) g;
CREATE TEMP TABLE s AS SELECT task_q_key, claim_token FROM rollout_claim('STATS.SHORT', 3, as_version => '10.1');
SELECT count(*) FILTER (WHERE rollout_complete(task_q_key, claim_token)) AS completed FROM s;
SELECT rollout_retry(task_q_key, claim_token, '0 seconds') AS stale_retry FROM s LIMIT 1;
RESET rollout.direct_claim;
SELECT * FROM stats_now WHERE transaction_id = 'STATS.SHORT';

-- Every claim's wait (due date to claim) is in the wait histogram, and every
-- completion's, retry's and parking's work time (from the claim token) in the work one.
SELECT transaction_id, rollout_version_format(version) AS version,
       (SELECT sum(n) FROM unnest(wait_time) n) = claimed AS wait_counted,
       (SELECT sum(n) FROM unnest(work_time) n) = completed + retried + parked AS work_counted,
       array_length(work_time, 1) AS buckets,
       (work_p50 IS NOT NULL) = (completed + retried + parked > 0) AS work_p50_when_worked,
       wait_p50 <= wait_p95 AND wait_p95 <= wait_p99 AS wait_quantiles_ordered,
       since <= now() AS since
  FROM rollout_stats WHERE transaction_id LIKE 'STATS%' ORDER BY 1, 2;

-- A driver table with no transaction column: its rows count under the
-- criteria id; rollout_complete_rows and rollout_retry_rows count too.
CREATE TABLE stats_driver (id bigint PRIMARY KEY, due timestamptz, ver rollout_version,
                           token uuid);
INSERT INTO stats_driver SELECT g, now() - interval '1 second', '9.4', NULL FROM generate_series(1, 3) g;
SELECT rollout_define_criteria('STATS.DRIVER', queue_table => 'stats_driver', key_column => 'id',
                               due_column => 'due', version_column => 'ver', token_column => 'token',
                               lease => '1 hour');
CREATE TEMP TABLE d AS SELECT id, token FROM rollout_claim_rows('STATS.DRIVER', NULL::stats_driver, 3, as_version => '9.4');
SELECT rollout_complete_rows('STATS.DRIVER', id::text, token) FROM d WHERE id = 1;
SELECT rollout_retry_rows('STATS.DRIVER', id::text, token, '1 hour') FROM d WHERE id = 2;
SELECT rollout_complete_rows('STATS.DRIVER', id::text, gen_random_uuid()) AS stale FROM d WHERE id = 3;
SELECT transaction_id, rollout_version_format(version) AS version, claimed, completed, retried,
       refused, (SELECT sum(n) FROM unnest(work_time) n) AS worked
  FROM rollout_stats WHERE queue_table = 'stats_driver'::regclass;

-- Resetting a version, a transaction, or everything.
SELECT rollout_stats_reset(version => '9.4');
SELECT * FROM stats_now;
SELECT rollout_stats_reset('rollout_task_q', 'STATS.SHORT');
SELECT * FROM stats_now;
SELECT rollout_stats_reset();
SELECT count(*) AS keys_after_reset FROM rollout_stats;

-- rollout.track_stats = off stops counting (superuser only).
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
SELECT 'STATS', 'off-' || g, '9.4' FROM generate_series(1, 2) g;
SET rollout.track_stats = off;
SELECT count(*) AS claimed_untracked FROM rollout_claim('STATS.V', 10, as_version => '9.4');
SELECT count(*) AS keys_untracked FROM rollout_stats;
RESET rollout.track_stats;
CREATE ROLE regress_stats_user;
SET ROLE regress_stats_user;
SET rollout.track_stats = off;
SELECT rollout_stats_reset();
RESET ROLE;
DROP ROLE regress_stats_user;
SELECT rollout_stats_count_end('rollout_task_q', 'x', NULL, 'lost', NULL);

DROP VIEW stats_now;
DROP TABLE stats_driver;
DELETE FROM rollout_task_q WHERE transaction_id LIKE 'STATS%';
SELECT count(rollout_drop_criteria(criteria_id)) FROM rollout_criteria WHERE criteria_id LIKE 'STATS%';
SELECT rollout_stats_reset();
\else
SELECT * FROM rollout_stats;
SELECT rollout_stats_reset();
\endif
