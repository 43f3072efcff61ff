-- What client drivers send, and what they get back.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET rollout.version = '10.1';
SET rollout.claim_rescan_interval = 0;
SELECT rollout_define_criteria('CLIENT', transaction_id => 'CLIENT', batch_size => 5,
                               multi_version => true);
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
SELECT 'CLIENT', 'C-' || g, '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 8) g;

-- A version bound as varchar (PgJDBC's setString), text (psycopg's str in
-- binary mode), bigint (setLong, a large Python int) or integer (setInt, a
-- small Python int): each reaches the function as a rollout_version.
PREPARE claim_varchar(text, integer, varchar) AS
	SELECT data_key, rollout_version_format(rollout_version) FROM rollout_claim($1, $2, $3);
PREPARE claim_text(text, integer, text) AS
	SELECT data_key, rollout_version_format(rollout_version) FROM rollout_claim($1, $2, $3);
PREPARE claim_bigint(text, integer, bigint) AS
	SELECT data_key, rollout_version_format(rollout_version) FROM rollout_claim($1, $2, $3);
PREPARE claim_integer(text, integer, integer) AS
	SELECT data_key, rollout_version_format(rollout_version) FROM rollout_claim($1, $2, $3);
EXECUTE claim_varchar('CLIENT', 1, '10.1');
EXECUTE claim_text('CLIENT', 1, '1010000000');
EXECUTE claim_bigint('CLIENT', 1, 1010000000);
EXECUTE claim_integer('CLIENT', 1, 1010000000);
-- A string that is no version gets the type's error; a negative number the
-- range error. Nothing is claimed.
EXECUTE claim_varchar('CLIENT', 1, '10.1.0.111.1');
EXECUTE claim_bigint('CLIENT', 1, -1);
SELECT count(*) AS claimed FROM rollout_task_q
 WHERE transaction_id = 'CLIENT' AND claim_token IS NOT NULL;

-- The version column takes the same parameters (an INSERT uses assignment
-- casts, which include the implicit ones).
CREATE TABLE client_orders (order_key text PRIMARY KEY);
SELECT rollout_enable_tagging('client_orders');
PREPARE insert_varchar(text, varchar) AS
	INSERT INTO client_orders (order_key, rollout_version) VALUES ($1, $2)
	RETURNING order_key, rollout_version_format(rollout_version);
PREPARE insert_bigint(text, bigint) AS
	INSERT INTO client_orders (order_key, rollout_version) VALUES ($1, $2)
	RETURNING order_key, rollout_version_format(rollout_version);
EXECUTE insert_varchar('O-1', '10.1');
EXECUTE insert_bigint('O-2', 1010000000);
EXECUTE insert_varchar('O-3', 'V2');
SELECT order_key FROM client_orders ORDER BY 1;

-- Other functions that take a version, with typed parameters.
PREPARE register_version(varchar, text) AS SELECT rollout_register_version($1, $2);
EXECUTE register_version('11.0', 'V3');
PREPARE version_state(bigint) AS SELECT state FROM rollout_versions WHERE version = $1;
EXECUTE version_state(1100000000);

-- Comparisons stay comparisons of versions, and none is ambiguous: no
-- implicit cast leads from a version to a number or a string.
SELECT '10.1'::rollout_version = 1010000000 AS integer_literal,
       '10.1'::rollout_version = 1010000000::bigint AS bigint,
       '10.1'::rollout_version = '10.1'::text AS text,
       '10.1'::rollout_version = '10.1'::varchar AS varchar,
       1010000000 = '10.1'::rollout_version AS reversed,
       '10.1'::rollout_version < 1100000000 AS ordered;
-- Arithmetic on versions is still refused.
SELECT '10.1'::rollout_version + 1;
SELECT length('10.1'::rollout_version);

-- The tagging error carries the table and column in its fields, where
-- drivers read them (PgJDBC's ServerErrorMessage.getTable()).
RESET rollout.version;
DO $$
DECLARE
	state text;
	schema_name text;
	table_name text;
	column_name text;
BEGIN
	INSERT INTO client_orders (order_key) VALUES ('O-untagged');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, schema_name = SCHEMA_NAME,
	                        table_name = TABLE_NAME, column_name = COLUMN_NAME;
	RAISE NOTICE 'SQLSTATE %, schema %, table %, column %', state, schema_name, table_name,
		column_name;
END
$$;
SET rollout.version = '10.1';

-- A retry's delay counts from the retry statement, not from the start of the
-- transaction: an agent that claims, works and retries in one transaction
-- (Java's @Transactional) does not get its task back at once.
BEGIN;
CREATE TEMP TABLE held ON COMMIT DROP AS
	SELECT task_q_key, data_key, claim_token FROM rollout_claim('CLIENT', 2);
SELECT pg_sleep(1.2);
SELECT rollout_retry(task_q_key, claim_token, '1 second') FROM held WHERE data_key = 'C-5';
SELECT rollout_retry_rows('CLIENT', task_q_key::text, claim_token, '1 second')
  FROM held WHERE data_key = 'C-6';
-- Due at the retry statement's start plus the delay: 2.2 seconds or more
-- after the transaction began, and still ahead of the clock.
SELECT data_key, available_date - now() >= interval '2.2 seconds' AS counted_from_retry,
       available_date > clock_timestamp() AS not_due_yet
  FROM rollout_task_q q JOIN held USING (data_key) ORDER BY data_key;
COMMIT;

-- The procedures commit between batches: inside a transaction block (a
-- driver with autocommit off) they refuse before doing anything, and say why.
BEGIN;
CALL rollout_phase_out('9.4', '10.1');
ROLLBACK;
BEGIN;
CALL rollout_retag('client_orders', '10.1', '11.0');
ROLLBACK;
SELECT count(*) AS versions_draining FROM rollout_versions WHERE state <> 'active';
-- With autocommit, they run.
CALL rollout_retag('client_orders', '10.1', '11.0');
SELECT order_key, rollout_version_format(rollout_version) FROM client_orders ORDER BY 1;

DROP TABLE client_orders;
DELETE FROM rollout_task_q WHERE transaction_id = 'CLIENT';
SELECT rollout_drop_criteria('CLIENT');
DELETE FROM rollout_versions WHERE version = '11.0';
