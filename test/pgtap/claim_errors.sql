-- Claim and criteria errors carry specific SQLSTATEs and change nothing.
BEGIN;
CREATE EXTENSION IF NOT EXISTS rollout_ext;
SELECT plan(30);

SELECT rollout_define_criteria('TAP.SCHEDULE');
CREATE TABLE tap_driver (k bigint PRIMARY KEY, due timestamptz, held boolean, txn text, note int);
SELECT rollout_enable_tagging('tap_driver');
SELECT rollout_define_criteria('TAP.DRIVER', queue_table => 'tap_driver', key_column => 'k', due_column => 'due');
SET LOCAL rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('TAP.SCHEDULE', 'k1');

-- Claims.
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP.NOPE')$$, '42704',
	'criteria "TAP.NOPE" does not exist', 'unknown criteria');
SELECT throws_ok($$SELECT * FROM rollout_claim(repeat('x', 300))$$, '42704', NULL, 'overlong criteria id');
SELECT throws_ok($$SELECT * FROM rollout_claim(NULL)$$, '22004', 'criteria_id must not be null', 'null criteria');
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP.SCHEDULE', 0)$$, '22023',
	'max_rows must be positive, not 0', 'zero max_rows');
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP.SCHEDULE', -1)$$, '22023', NULL, 'negative max_rows');
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP.SCHEDULE', 1, '1.2.3.4.5.6.7')$$, '22P02', NULL,
	'malformed as_version');
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP.DRIVER')$$, '42809', NULL,
	'task-queue form on a driver-table criteria');
SELECT throws_ok($$SELECT * FROM rollout_claim_rows('TAP.SCHEDULE', NULL::tap_driver)$$, '42804', NULL,
	'row type of another table');
SELECT throws_ok($$SELECT * FROM rollout_claim_rows('TAP.DRIVER', NULL::int)$$, '42804', NULL,
	'row type that is not a table');
SET LOCAL rollout.version = '';
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP.SCHEDULE')$$, '55000',
	'no rollout version to claim rows of criteria "TAP.SCHEDULE" with', 'no version: fail closed');
SELECT is((SELECT claim_count FROM rollout_task_q WHERE data_key = 'k1'), 0, 'failed claims claimed nothing');
SELECT lives_ok($$SELECT * FROM rollout_claim('TAP.SCHEDULE', 2147483647, '10.1')$$, 'enormous max_rows is fine');
SELECT is((SELECT claim_count FROM rollout_task_q WHERE data_key = 'k1'), 1, 'and claims the row once');

-- Completion and retry.
SELECT is(rollout_complete(NULL, NULL), false, 'complete with nulls is a stale completion');
SELECT throws_ok($$SELECT rollout_retry(1, gen_random_uuid(), NULL)$$, '22023', NULL, 'null delay');
SELECT throws_ok($$SELECT rollout_retry(1, gen_random_uuid(), '-1 s')$$, '22023', NULL, 'negative delay');
SELECT throws_ok($$SELECT rollout_complete_rows('TAP.NOPE', '1', gen_random_uuid())$$, '42704', NULL,
	'generic completion of an unknown criteria');
SELECT throws_ok($$SELECT rollout_complete_rows('TAP.DRIVER', 'not-a-number', gen_random_uuid())$$, '22P02', NULL,
	'generic completion with a key of the wrong type');

-- Criteria definitions.
SELECT throws_ok($$SELECT rollout_define_criteria(NULL)$$, '22004', NULL, 'null criteria id');
SELECT throws_ok($$SELECT rollout_define_criteria('')$$, '22023', NULL, 'empty criteria id');
SELECT throws_ok($$SELECT rollout_define_criteria('X', batch_size => 0)$$, '22023', NULL, 'zero batch');
SELECT throws_ok($$SELECT rollout_define_criteria('X', batch_size => -3)$$, '22023', NULL, 'negative batch');
SELECT throws_ok($$SELECT rollout_define_criteria('X', lease => '0')$$, '22023', NULL, 'zero lease');
SELECT throws_ok($$SELECT rollout_define_criteria('X', queue_table => 'tap_driver')$$, '22023', NULL,
	'driver table without key and due columns');
SELECT throws_ok($$SELECT rollout_define_criteria('X', queue_table => 'tap_driver', key_column => 'nope', due_column => 'due')$$,
	'42703', NULL, 'unknown key column');
SELECT throws_ok($$SELECT rollout_define_criteria('X', queue_table => 'tap_driver', key_column => 'k', due_column => 'note')$$,
	'42804', 'column "note" of relation "tap_driver" has type integer, not timestamp with time zone', 'due column of the wrong type');
SELECT throws_ok($$SELECT rollout_define_criteria('X', queue_table => 'tap_driver', key_column => 'k', due_column => 'due', hold_column => 'txn')$$,
	'42804', NULL, 'hold column of the wrong type');
SELECT throws_ok($$SELECT rollout_define_criteria('X', queue_table => 'pg_class', key_column => 'oid', due_column => 'nope')$$, '42703', NULL,
	'a catalog without the columns');
SELECT throws_ok($$SELECT rollout_drop_criteria('X')$$, '42704', 'criteria "X" does not exist', 'drop unknown');
SELECT is((SELECT count(*) FROM rollout_criteria WHERE criteria_id LIKE 'X%'), 0::bigint,
	'failed definitions registered nothing');

SELECT * FROM finish();
ROLLBACK;
