-- The direct claim: a claim on a table with an index that keeps its rows in
-- claim order, (transaction, version, due, key) for exact-version criteria and
-- (transaction, due, key) for the others, updates the due rows through that
-- index, without a statement. It hands out what the statement hands out;
-- claims that need the statement's features run it.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET rollout.version = '10.1';
-- Every claim scans from the oldest entry (claim_position tests the position).
SET rollout.claim_rescan_interval = 0;

-- Two identical queues of rollout_task_q: four versions and untagged rows, a
-- held row, a row due in the future. Each has an exact, a base-version and a
-- version-blind criteria.
SELECT rollout_define_criteria(t || m, transaction_id => t, batch_size => 3,
                               base_version => m = '.BASE', multi_version => m <> '.ANY')
  FROM unnest(ARRAY['DIRECT.A', 'DIRECT.B']) t, unnest(ARRAY['', '.BASE', '.ANY']) m;
-- (rollout.restoring keeps the untagged rows untagged.)
BEGIN;
SET LOCAL rollout.restoring = on;
INSERT INTO rollout_task_q (transaction_id, data_key, available_date, rollout_version, hold_flag)
SELECT t, 'D-' || g, '2026-01-01'::timestamptz + (g % 4) * interval '1 minute',
       (ARRAY['9.4', '10.1', '10.1', '11.0', NULL])[g % 5 + 1]::rollout_version, g = 5
  FROM unnest(ARRAY['DIRECT.A', 'DIRECT.B']) t, generate_series(1, 15) g;
COMMIT;
INSERT INTO rollout_task_q (transaction_id, data_key, available_date, rollout_version)
SELECT t, 'D-future', now() + interval '1 hour', '10.1'
  FROM unnest(ARRAY['DIRECT.A', 'DIRECT.B']) t;

SHOW rollout.direct_claim;

-- The same claims, directly and as the statement: the same rows in the same
-- order (due, then key), each leased from the claim statement, counted once
-- more and given a fresh token.
CREATE FUNCTION pg_temp.claim(criteria text, n integer) RETURNS TABLE (
	data_key text, claim_count integer, leased boolean, has_token boolean)
LANGUAGE sql AS $$
	SELECT data_key, claim_count, available_date = statement_timestamp() + interval '5 minutes',
	       claim_token IS NOT NULL
	  FROM rollout_claim(criteria, n)
$$;
-- Six claims in a row: exact claims take the 10.1 rows; the base-version
-- claims then take the 9.4 and untagged rows and leave 11.0's; the
-- version-blind claim takes what is left.
CREATE FUNCTION pg_temp.claim_sequence(queue text) RETURNS TABLE (
	step integer, data_key text, claim_count integer, leased boolean, has_token boolean)
LANGUAGE plpgsql AS $$
DECLARE
	criteria CONSTANT text[] := ARRAY['', '', '', '.BASE', '.BASE', '.ANY'];
	sizes CONSTANT integer[] := ARRAY[3, NULL, 10, 4, 10, 10];
BEGIN
	FOR i IN 1 .. 6 LOOP
		RETURN QUERY SELECT i, c.* FROM pg_temp.claim(queue || criteria[i], sizes[i]) c;
	END LOOP;
END
$$;
SELECT * FROM pg_temp.claim_sequence('DIRECT.A');
SET rollout.direct_claim = off;
SELECT * FROM pg_temp.claim_sequence('DIRECT.B');
RESET rollout.direct_claim;
-- Both queues end in the same state; each claim has its own token.
SELECT data_key, available_date > now() AS leased, claim_count, claim_token IS NOT NULL AS claimed
  FROM rollout_task_q WHERE transaction_id = 'DIRECT.A'
EXCEPT
SELECT data_key, available_date > now(), claim_count, claim_token IS NOT NULL
  FROM rollout_task_q WHERE transaction_id = 'DIRECT.B';
SELECT count(DISTINCT claim_token) AS tokens, count(*) AS claimed
  FROM rollout_task_q WHERE claim_token IS NOT NULL;

-- What the direct claim writes is what the statement writes: a row lock
-- (taken without waiting, as SKIP LOCKED takes it), then the update and its
-- index entries, for each row. Counted in WAL records, as EXPLAIN reports
-- them. (An update without the lock first needs heap_update's wait = false,
-- which PostgreSQL does not support; an assert-enabled server aborts on it.)
CREATE FUNCTION pg_temp.claim_wal_records(criteria text, n integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE format('EXPLAIN (ANALYZE, WAL, COSTS OFF, TIMING OFF, FORMAT JSON) '
	               'SELECT * FROM rollout_claim(%L, %s)', criteria, n) INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'WAL Records')::bigint;
END
$$;
-- A VACUUM before each claim leaves it no dead row or index entry to clean
-- up on its way, which would add records of its own.
UPDATE rollout_task_q SET available_date = '2026-01-01', claim_token = NULL
 WHERE transaction_id IN ('DIRECT.A', 'DIRECT.B');
VACUUM rollout_task_q;
SELECT pg_temp.claim_wal_records('DIRECT.A', 3) AS direct \gset
VACUUM rollout_task_q;
SELECT pg_temp.claim_wal_records('DIRECT.A.BASE', 2) AS direct_base \gset
SET rollout.direct_claim = off;
VACUUM rollout_task_q;
SELECT pg_temp.claim_wal_records('DIRECT.B', 3) AS statement \gset
VACUUM rollout_task_q;
SELECT pg_temp.claim_wal_records('DIRECT.B.BASE', 2) AS statement_base \gset
RESET rollout.direct_claim;
SELECT :direct AS direct, :statement AS statement,
       :direct_base AS direct_base, :statement_base AS statement_base;

-- A claim that would overflow the claim count fails as the statement's would,
-- and changes nothing.
UPDATE rollout_task_q SET claim_count = 2147483647, available_date = '2025-01-01'
 WHERE transaction_id = 'DIRECT.A' AND data_key = 'D-1';
SELECT data_key FROM rollout_claim('DIRECT.A', 1);
SELECT claim_count, available_date FROM rollout_task_q
 WHERE transaction_id = 'DIRECT.A' AND data_key = 'D-1';
DELETE FROM rollout_task_q WHERE transaction_id IN ('DIRECT.A', 'DIRECT.B');

-- A completion deletes the row by its key when the token is the claim's, and
-- only then.
SELECT rollout_define_criteria('DIRECT.C', batch_size => 2);
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
VALUES ('DIRECT.C', 'C-1', '2026-01-01'), ('DIRECT.C', 'C-2', '2026-01-01');
CREATE TEMP TABLE held AS SELECT task_q_key, data_key, claim_token FROM rollout_claim('DIRECT.C');
SELECT data_key, rollout_complete(task_q_key, gen_random_uuid()) AS other_token
  FROM held ORDER BY data_key;
SELECT data_key, rollout_complete(task_q_key, claim_token) AS completed
  FROM held ORDER BY data_key;
SELECT data_key, rollout_complete(task_q_key, claim_token) AS completed_again
  FROM held ORDER BY data_key;
SELECT count(*) AS left_over FROM rollout_task_q WHERE transaction_id = 'DIRECT.C';

-- A DELETE trigger on the queue runs: the completion takes the statement.
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
VALUES ('DIRECT.C', 'C-3', '2026-01-01');
TRUNCATE held;
INSERT INTO held SELECT task_q_key, data_key, claim_token FROM rollout_claim('DIRECT.C');
CREATE FUNCTION pg_temp.say_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'deleting %', OLD.data_key;
	RETURN OLD;
END
$$;
CREATE TRIGGER rollout_task_q_deleted BEFORE DELETE ON rollout_task_q
	FOR EACH ROW EXECUTE FUNCTION pg_temp.say_deleted();
SET client_min_messages = debug1;
SELECT data_key, rollout_complete(task_q_key, claim_token) AS completed FROM held;
RESET client_min_messages;
DROP TRIGGER rollout_task_q_deleted ON rollout_task_q;

-- A driver table with the index, and a dropped column whose old values the
-- claimed rows must not carry.
CREATE TABLE direct_q (
	id bigint PRIMARY KEY,
	txn text NOT NULL,
	payload text,
	gone integer,
	due timestamptz NOT NULL,
	ver rollout_version,
	held boolean NOT NULL DEFAULT false,
	token uuid
);
CREATE INDEX direct_q_claim ON direct_q (txn, ver, due, id) WHERE NOT held;
INSERT INTO direct_q (id, txn, payload, gone, due, ver)
SELECT g, 'DRIVER', 'row ' || g, g, '2026-01-01'::timestamptz + g * interval '1 minute', '10.1'
  FROM generate_series(1, 6) g;
ALTER TABLE direct_q DROP COLUMN gone;
SELECT rollout_define_criteria('DRIVER', queue_table => 'direct_q', key_column => 'id',
	due_column => 'due', version_column => 'ver', transaction_column => 'txn',
	hold_column => 'held', token_column => 'token', batch_size => 2);
SELECT id, payload, due > now() AS leased, token IS NOT NULL AS has_token
  FROM rollout_claim_rows('DRIVER', NULL::direct_q);

-- Which way a claim runs is reported at DEBUG1.
SET client_min_messages = debug1;
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
SET rollout.direct_claim = off;
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
RESET rollout.direct_claim;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
ROLLBACK;
RESET client_min_messages;

-- An UPDATE trigger runs: the claim takes the statement.
CREATE FUNCTION pg_temp.mark_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.payload := NEW.payload || ' (seen by trigger)';
	RETURN NEW;
END
$$;
CREATE TRIGGER direct_q_seen BEFORE UPDATE ON direct_q
	FOR EACH ROW EXECUTE FUNCTION pg_temp.mark_seen();
SET client_min_messages = debug1;
SELECT id, payload FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
RESET client_min_messages;
DROP TRIGGER direct_q_seen ON direct_q;

-- A CHECK constraint is checked on the claimed row.
UPDATE direct_q SET due = '2026-01-01', token = NULL;
ALTER TABLE direct_q ADD CONSTRAINT claims_before_2030 CHECK (due < '2030-01-01');
SELECT rollout_define_criteria('DRIVER', lease => '10 years');
\set VERBOSITY terse
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
\set VERBOSITY default
SELECT count(*) AS still_due FROM direct_q WHERE due = '2026-01-01';
ALTER TABLE direct_q DROP CONSTRAINT claims_before_2030;
SELECT rollout_define_criteria('DRIVER', lease => '5 minutes');

-- Privileges: without UPDATE the claim fails as the statement would; with
-- UPDATE on the claim's columns only, it runs as the statement.
UPDATE direct_q SET due = '2026-01-01', token = NULL;
CREATE ROLE regress_direct_claimer;
GRANT SELECT ON direct_q, rollout_criteria, rollout_versions, rollout_ramp TO regress_direct_claimer;
SET ROLE regress_direct_claimer;
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
RESET ROLE;
GRANT UPDATE (due, token) ON direct_q TO regress_direct_claimer;
SET ROLE regress_direct_claimer;
SET client_min_messages = debug1;
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
RESET client_min_messages;
RESET ROLE;

-- Row-level security hides rows from the claim.
GRANT UPDATE ON direct_q TO regress_direct_claimer;
ALTER TABLE direct_q ENABLE ROW LEVEL SECURITY;
CREATE POLICY odd_rows ON direct_q USING (id % 2 = 1);
SET ROLE regress_direct_claimer;
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 10);
RESET ROLE;
ALTER TABLE direct_q DISABLE ROW LEVEL SECURITY;
DROP POLICY odd_rows ON direct_q;

-- Criteria the direct claim cannot serve say why: no index in their claim
-- order, ending in the key.
SELECT rollout_define_criteria('DRIVER.BASE', transaction_id => 'DRIVER',
	queue_table => 'direct_q', key_column => 'id', due_column => 'due', version_column => 'ver',
	transaction_column => 'txn', hold_column => 'held', token_column => 'token',
	base_version => true);
DROP INDEX direct_q_claim;
CREATE INDEX direct_q_claim ON direct_q (txn, ver, due) WHERE NOT held;
SET client_min_messages = debug1;
SELECT id FROM rollout_claim_rows('DRIVER.BASE', NULL::direct_q, 1);
SELECT id FROM rollout_claim_rows('DRIVER', NULL::direct_q, 1);
RESET client_min_messages;

REVOKE ALL ON direct_q, rollout_criteria, rollout_versions, rollout_ramp FROM regress_direct_claimer;
DROP ROLE regress_direct_claimer;
SELECT rollout_drop_criteria(c)
  FROM unnest(ARRAY['DIRECT.A', 'DIRECT.B', 'DIRECT.A.BASE', 'DIRECT.B.BASE', 'DIRECT.A.ANY',
                    'DIRECT.B.ANY', 'DIRECT.C', 'DRIVER', 'DRIVER.BASE']) c;
DROP TABLE direct_q;

-- A claim index that is not partial on NOT hold also holds held rows: the
-- direct claim skips them (and rows whose hold is NULL) as the statement does.
CREATE TABLE held_q (id bigint PRIMARY KEY, txn text NOT NULL, due timestamptz NOT NULL,
                     ver rollout_version, held boolean, token uuid);
CREATE INDEX held_q_claim ON held_q (txn, ver, due, id);
INSERT INTO held_q (id, txn, due, ver, held)
VALUES (1, 'HELD', '2026-01-01', '10.1', true), (2, 'HELD', '2026-01-02', '10.1', NULL),
       (3, 'HELD', '2026-01-03', '10.1', false);
SELECT rollout_define_criteria('HELD', queue_table => 'held_q', key_column => 'id',
	due_column => 'due', version_column => 'ver', transaction_column => 'txn',
	hold_column => 'held', token_column => 'token');
SET client_min_messages = debug1;
SELECT id FROM rollout_claim_rows('HELD', NULL::held_q, 10);
RESET client_min_messages;
UPDATE held_q SET due = '2026-01-01', token = NULL;
SET rollout.direct_claim = off;
SELECT id FROM rollout_claim_rows('HELD', NULL::held_q, 10);
RESET rollout.direct_claim;

-- A partition's constraint may bound the due date, which a claim moves: a
-- criteria on a partition claims with the statement.
CREATE TABLE parted_q (id bigint, txn text NOT NULL, due timestamptz NOT NULL,
                       ver rollout_version, token uuid) PARTITION BY RANGE (due);
CREATE TABLE parted_q_2026 PARTITION OF parted_q
	FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE parted_q_2026 ADD PRIMARY KEY (id);
CREATE INDEX parted_q_2026_claim ON parted_q_2026 (txn, ver, due, id);
INSERT INTO parted_q VALUES (1, 'PARTED', '2026-01-01', '10.1');
SELECT rollout_define_criteria('PARTED', queue_table => 'parted_q_2026', key_column => 'id',
	due_column => 'due', version_column => 'ver', transaction_column => 'txn',
	token_column => 'token', lease => '10 years');
SET client_min_messages = debug1;
\set VERBOSITY terse
SELECT id FROM rollout_claim_rows('PARTED', NULL::parted_q_2026, 1);
\set VERBOSITY default
RESET client_min_messages;
SELECT count(*) AS still_due FROM parted_q WHERE due = '2026-01-01';

SELECT rollout_drop_criteria(c) FROM unnest(ARRAY['HELD', 'PARTED']) c;
DROP TABLE held_q, parted_q;
