-- Criteria and claims: version matching, eligibility, leases, fenced
-- completion, driver tables and errors.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never

SELECT rollout_define_criteria('SCHEDULE.0001', batch_size => 3);
SELECT rollout_define_criteria('SCHEDULE.0001.BASE', transaction_id => 'SCHEDULE.0001', base_version => true);
SELECT rollout_define_criteria('SCHEDULE.0001.ANY', transaction_id => 'SCHEDULE.0001', multi_version => false);
SELECT criteria_id, transaction_id, queue_table, multi_version, base_version, batch_size, lease
  FROM rollout_criteria ORDER BY criteria_id;

-- Tasks of three versions, one untagged, one held, one not yet due, one of
-- another transaction.
SET rollout.version = '9.4';
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
SELECT 'SCHEDULE.0001', 'V1-' || g, '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 4) g;
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
SELECT 'SCHEDULE.0001', 'V2-' || g, '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 4) g;
INSERT INTO rollout_task_q (transaction_id, data_key, available_date, hold_flag)
VALUES ('SCHEDULE.0001', 'V2-held', '2026-01-01', true);
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
VALUES ('SCHEDULE.0001', 'V2-future', now() + interval '1 day'),
       ('RELEASE.0001', 'V2-release', '2026-01-01');
INSERT INTO rollout_task_q (transaction_id, data_key, available_date, rollout_version)
VALUES ('SCHEDULE.0001', 'V3-1', '2026-01-01', '11.0');
SELECT rollout_enable_tagging('rollout_task_q', if_unset => 'null');
RESET rollout.version;
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
VALUES ('SCHEDULE.0001', 'untagged', '2026-01-01');
SELECT rollout_enable_tagging('rollout_task_q');

-- Exact match: a V2 claimer gets V2 rows only, in due order, at most the
-- criteria's batch size, and leases them.
SET rollout.version = '10.1';
SELECT data_key, rollout_version_format(rollout_version), claim_count,
       claim_token IS NOT NULL AS has_token, available_date > now() AS leased
  FROM rollout_claim('SCHEDULE.0001');
-- The claimed rows are leased: the next claim gets the rest.
SELECT data_key FROM rollout_claim('SCHEDULE.0001');
SELECT data_key FROM rollout_claim('SCHEDULE.0001');
-- as_version overrides the session; max_rows overrides the batch size.
SELECT data_key FROM rollout_claim('SCHEDULE.0001', 2, '9.4');
SELECT data_key FROM rollout_claim('SCHEDULE.0001', max_rows => 10, as_version => '11.0');
-- Base version: its own and lower versions, and untagged rows, never higher.
SELECT data_key, rollout_version_format(rollout_version) FROM rollout_claim('SCHEDULE.0001.BASE', 10, '9.4');
-- multi_version off: every version.
UPDATE rollout_task_q SET available_date = '2026-01-01' WHERE data_key ~ '^V[0-9]-[0-9]$';
SELECT count(*), count(DISTINCT rollout_version) AS versions FROM rollout_claim('SCHEDULE.0001.ANY', 100);
-- A held row and a row not yet due are never claimed.
SELECT data_key, hold_flag, available_date > now() AS not_due FROM rollout_task_q
 WHERE claim_count = 0 ORDER BY data_key;

-- Completion and retry are fenced by the claim token.
TRUNCATE rollout_task_q;
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('SCHEDULE.0001', 'A'), ('SCHEDULE.0001', 'B');
CREATE TEMP TABLE claimed AS SELECT * FROM rollout_claim('SCHEDULE.0001');
SELECT count(DISTINCT claim_token) AS tokens_per_claim FROM claimed;
SELECT rollout_complete(task_q_key, claim_token) FROM claimed WHERE data_key = 'A';
SELECT rollout_complete(task_q_key, claim_token) FROM claimed WHERE data_key = 'A';  -- already done
SELECT rollout_complete(task_q_key, gen_random_uuid()) FROM claimed WHERE data_key = 'B';  -- wrong token
SELECT rollout_retry(task_q_key, claim_token, '0 seconds') FROM claimed WHERE data_key = 'B';
SELECT rollout_retry(task_q_key, claim_token, '0 seconds') FROM claimed WHERE data_key = 'B';  -- token spent
-- The retried row is claimable again, with a fresh token; the old token is stale.
SELECT data_key, claim_count FROM rollout_claim('SCHEDULE.0001');
SELECT rollout_complete(task_q_key, claim_token) FROM claimed WHERE data_key = 'B';
SELECT data_key, claim_count FROM rollout_task_q;
SELECT rollout_retry(task_q_key, claim_token, '-1 second') FROM claimed;

-- An expired lease makes the row claimable by the same version; the first
-- claimer's token is then stale.
TRUNCATE rollout_task_q;
SELECT rollout_define_criteria('SHORT', lease => '1 millisecond');
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('SHORT', 'X');
CREATE TEMP TABLE first_claim AS SELECT * FROM rollout_claim('SHORT');
SELECT pg_sleep(0.01);
SELECT count(*) AS claimed_by_other_version FROM rollout_claim('SHORT', as_version => '9.4');
CREATE TEMP TABLE second_claim AS SELECT * FROM rollout_claim('SHORT');
SELECT count(*) AS reclaimed, bool_and(s.claim_token <> f.claim_token) AS new_token
  FROM second_claim s JOIN first_claim f USING (task_q_key);
SELECT rollout_complete(task_q_key, claim_token) AS stale_complete FROM first_claim;
SELECT rollout_complete(task_q_key, claim_token) AS current_complete FROM second_claim;

-- Tokens are RFC 9562 version 7 UUIDs, a new one per claim, whose first 48
-- bits are the claim statement's time in milliseconds since 1970 (a
-- completion's work time counts from it, in rollout_stats).
INSERT INTO rollout_task_q (transaction_id, data_key)
SELECT 'SHORT', 'T' || g FROM generate_series(1, 100) g;
SELECT count(DISTINCT c.claim_token) AS distinct_tokens,
       bool_and(substr(c.claim_token::text, 15, 1) = '7'
                AND substr(c.claim_token::text, 20, 1) IN ('8', '9', 'a', 'b')) AS version_7,
       bool_and(('x' || lpad(replace(left(c.claim_token::text, 13), '-', ''), 16, '0'))::bit(64)::bigint
                = floor(extract(epoch FROM statement_timestamp()) * 1000)) AS claim_time
  FROM generate_series(1, 100) g, LATERAL rollout_claim('SHORT', 1 + 0 * g) c;
TRUNCATE rollout_task_q;

-- Redefining a criteria takes effect at once (the cached plan is replaced).
SELECT rollout_define_criteria('SHORT', lease => '5 minutes');
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
VALUES ('SHORT', 'old', '9.4'), ('SHORT', 'new', '10.1');
SELECT data_key FROM rollout_claim('SHORT');
SELECT rollout_define_criteria('SHORT', base_version => true);
SELECT data_key FROM rollout_claim('SHORT');

-- Driver tables: any table with a key, a due column and a version.
CREATE TABLE order_header (
	order_header_key text PRIMARY KEY,
	"Next Alert" timestamptz,
	held boolean NOT NULL DEFAULT false
);
SELECT rollout_enable_tagging('order_header');
SELECT rollout_define_criteria('MONITOR', queue_table => 'order_header',
                               key_column => 'order_header_key', due_column => 'Next Alert',
                               hold_column => 'held', lease => '1 hour');
\d order_header
-- Redefining a criteria changes only what is given.
SELECT rollout_define_criteria('MONITOR', lease => '2 hours');
SELECT criteria_id, queue_table, key_column, due_column, hold_column, token_column, lease
  FROM rollout_criteria WHERE criteria_id = 'MONITOR';
SELECT rollout_define_criteria('MONITOR', lease => '1 hour');
SET rollout.version = '9.4';
INSERT INTO order_header VALUES ('O1', '2026-01-01'), ('O2', '2026-01-02'), ('O3', NULL);
SET rollout.version = '10.1';
INSERT INTO order_header (order_header_key, "Next Alert", held)
VALUES ('O4', '2026-01-01', false), ('O5', '2026-01-01', true);
SELECT order_header_key, rollout_version, rollout_claim_token IS NOT NULL AS claimed
  FROM rollout_claim_rows('MONITOR', NULL::order_header, 10, '9.4');
SELECT order_header_key FROM rollout_claim_rows('MONITOR', NULL::order_header);
CREATE TEMP TABLE monitor_claim AS SELECT * FROM order_header WHERE rollout_claim_token IS NOT NULL;
SELECT order_header_key, rollout_complete_rows('MONITOR', order_header_key, rollout_claim_token)
  FROM monitor_claim ORDER BY 1;
SELECT order_header_key, rollout_complete_rows('MONITOR', order_header_key, rollout_claim_token)
  FROM monitor_claim ORDER BY 1;
SELECT order_header_key, "Next Alert", rollout_claim_token FROM order_header ORDER BY 1;
UPDATE order_header SET "Next Alert" = '2026-01-01' WHERE order_header_key = 'O4';
SELECT order_header_key, rollout_retry_rows('MONITOR', order_header_key, rollout_claim_token, '1 day') AS retried
  FROM rollout_claim_rows('MONITOR', NULL::order_header);
SELECT order_header_key, "Next Alert" > now() AS due_later, rollout_claim_token IS NULL AS released
  FROM order_header WHERE order_header_key = 'O4';

-- A plan is kept per batch size in use; more sizes than plan slots still work.
TRUNCATE rollout_task_q;
INSERT INTO rollout_task_q (transaction_id, data_key)
SELECT 'SCHEDULE.0001', 'P' || g FROM generate_series(1, 30) g;
SELECT n, (SELECT count(*) FROM rollout_claim('SCHEDULE.0001', n)) AS claimed
  FROM generate_series(1, 6) n;
SELECT count(*) AS left_unclaimed FROM rollout_task_q WHERE claim_token IS NULL;

-- Claim errors.
SELECT * FROM rollout_claim('NO.SUCH.CRITERIA');
SELECT * FROM rollout_claim(NULL);
SELECT * FROM rollout_claim('SCHEDULE.0001', 0);
SELECT * FROM rollout_claim('SCHEDULE.0001', -5);
SELECT * FROM rollout_claim('MONITOR');
SELECT * FROM rollout_claim_rows('SCHEDULE.0001', NULL::order_header);
SELECT * FROM rollout_claim_rows('MONITOR', NULL::integer);
RESET rollout.version;
SELECT * FROM rollout_claim('SCHEDULE.0001');
SELECT count(*) FROM rollout_claim('SCHEDULE.0001.ANY');  -- needs no version

-- Criteria errors.
SELECT rollout_define_criteria(NULL);
SELECT rollout_define_criteria('');
SELECT rollout_define_criteria('X', batch_size => 0);
SELECT rollout_define_criteria('X', lease => '0 seconds');
SELECT rollout_define_criteria('X', lease => '-5 minutes');
SELECT rollout_define_criteria('X', queue_table => 'order_header');
SELECT rollout_define_criteria('X', queue_table => 'order_header', key_column => 'nope', due_column => 'Next Alert');
SELECT rollout_define_criteria('X', queue_table => 'order_header', key_column => 'order_header_key', due_column => 'held');
SELECT rollout_define_criteria('X', queue_table => 'order_header', key_column => 'order_header_key', due_column => 'Next Alert', transaction_column => 'held');
SELECT rollout_define_criteria('X', queue_table => 'no_such_table');
CREATE TABLE untagged_driver (k int, due timestamptz);
SELECT rollout_define_criteria('X', queue_table => 'untagged_driver', key_column => 'k', due_column => 'due');
SELECT rollout_drop_criteria('X');
SELECT rollout_drop_criteria('X', if_exists => true);
SELECT rollout_drop_criteria('MONITOR');
SELECT * FROM rollout_claim_rows('MONITOR', NULL::order_header);
SELECT count(*) FROM rollout_criteria WHERE criteria_id = 'X';

DROP TABLE order_header, untagged_driver;
TRUNCATE rollout_task_q;
DELETE FROM rollout_criteria;
