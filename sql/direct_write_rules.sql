-- Every rule of src/direct_write.cpp: what an UPDATE or DELETE statement
-- does that a bare heap write does not. Under each rule the same claim,
-- completion and retry run directly (rollout.direct_claim on) and as
-- statements (off), and both give the same rows or the same error.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET rollout.version = '10.1';
SET rollout.claim_rescan_interval = 0;

-- Each run works on three fresh rows of a transaction of its own, so that
-- what a failed run leaves behind (a publication can make its rows
-- undeletable) does not change the next one.
CREATE TEMP SEQUENCE rules_run;
CREATE FUNCTION pg_temp.seed(tid text) RETURNS void LANGUAGE sql AS $$
	SELECT rollout_define_criteria(tid, transaction_id => tid, batch_size => 2,
	                               lease => '1 hour');
	INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
	SELECT tid, 'R-' || g, '2026-01-01'::timestamptz + g * interval '1 minute'
	  FROM generate_series(1, 3) g;
$$;
CREATE FUNCTION pg_temp.clear(tid text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM rollout_task_q WHERE transaction_id = tid;
EXCEPTION WHEN OTHERS THEN
	NULL;  -- left for the last step of this file
END
$$;
-- Claims two of the three rows, completes the first and retries the second;
-- says what each step returned or raised, and which rows are left, how.
CREATE FUNCTION pg_temp.cycle(direct boolean, tid text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	keys bigint[];
	tokens uuid[];
	step text;
	outcome text;
BEGIN
	PERFORM set_config('rollout.direct_claim', direct::text, true);
	BEGIN
		SELECT array_agg(task_q_key ORDER BY data_key), array_agg(claim_token ORDER BY data_key),
		       string_agg(data_key, ',' ORDER BY data_key)
		  INTO keys, tokens, step FROM rollout_claim(tid);
		outcome := 'claimed ' || coalesce(step, 'nothing');
	EXCEPTION WHEN OTHERS THEN
		outcome := format('claim failed: %s %s', SQLSTATE, SQLERRM);
	END;
	BEGIN
		outcome := outcome || '; completed ' || coalesce(rollout_complete(keys[1], tokens[1])::text, '-');
	EXCEPTION WHEN OTHERS THEN
		outcome := outcome || format('; complete failed: %s %s', SQLSTATE, SQLERRM);
	END;
	BEGIN
		outcome := outcome || '; retried ' || coalesce(rollout_retry(keys[2], tokens[2], '1 hour')::text, '-');
	EXCEPTION WHEN OTHERS THEN
		outcome := outcome || format('; retry failed: %s %s', SQLSTATE, SQLERRM);
	END;
	SELECT string_agg(format('%s(count %s, %s)', data_key, claim_count,
	                         CASE WHEN claim_token IS NOT NULL THEN 'claimed'
	                              WHEN available_date > now() THEN 'retried'
	                              ELSE 'due' END), ' ' ORDER BY data_key)
	  INTO step FROM rollout_task_q WHERE transaction_id = tid;
	PERFORM set_config('rollout.direct_claim', 'on', true);
	RETURN outcome || '; left ' || coalesce(step, 'nothing');
END
$$;
-- The cycle directly, then as statements, as the role given (NULL: the
-- current one).
CREATE FUNCTION pg_temp.both_ways(agent name DEFAULT NULL, OUT same boolean, OUT direct text,
                                  OUT statement text)
LANGUAGE plpgsql AS $$
DECLARE
	run bigint := nextval('rules_run');
	tid text;
BEGIN
	FOREACH tid IN ARRAY ARRAY['RULES.' || run || '.direct', 'RULES.' || run || '.statement'] LOOP
		PERFORM pg_temp.seed(tid);
		IF agent IS NOT NULL THEN
			EXECUTE format('SET LOCAL ROLE %I', agent);
		END IF;
		IF tid LIKE '%.direct' THEN
			direct := pg_temp.cycle(true, tid);
		ELSE
			statement := pg_temp.cycle(false, tid);
		END IF;
		RESET ROLE;
		PERFORM pg_temp.clear(tid);
	END LOOP;
	same := direct IS NOT DISTINCT FROM statement;
END
$$;
\x on

-- No rule applies: the direct path runs.
SELECT * FROM pg_temp.both_ways();

-- Replica identity and publications (CheckCmdReplicaIdentity, as
-- execReplication.c calls it). A publication of deletes on a table without a
-- replica identity: completing fails, claiming and retrying (updates, not
-- published) work.
SET client_min_messages = error;  -- "wal_level is insufficient" warnings
ALTER TABLE rollout_task_q REPLICA IDENTITY NOTHING;
CREATE PUBLICATION rules_pub FOR TABLE rollout_task_q WITH (publish = 'insert, delete');
RESET client_min_messages;
SELECT * FROM pg_temp.both_ways();
-- Publishing updates too: the claim fails as well.
ALTER PUBLICATION rules_pub SET (publish = 'insert, update, delete');
SELECT * FROM pg_temp.both_ways();
-- Back to the primary key as replica identity, but a row filter on a column
-- outside it: updates and deletes fail.
ALTER TABLE rollout_task_q REPLICA IDENTITY DEFAULT;
ALTER PUBLICATION rules_pub SET TABLE rollout_task_q WHERE (transaction_id <> 'none');
SELECT * FROM pg_temp.both_ways();
-- A column list without the key columns: the same.
ALTER PUBLICATION rules_pub SET TABLE rollout_task_q (transaction_id, data_key);
SELECT * FROM pg_temp.both_ways();
-- A column list with them works.
ALTER PUBLICATION rules_pub SET TABLE rollout_task_q (task_q_key, data_key);
SELECT * FROM pg_temp.both_ways();
DROP PUBLICATION rules_pub;
-- What the failed runs left behind can go now.
DELETE FROM rollout_task_q WHERE transaction_id LIKE 'RULES.%';

-- Triggers, UPDATE and DELETE, row and statement: they fire.
CREATE TABLE rules_log (what text);
CREATE FUNCTION pg_temp.log_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO rules_log VALUES (TG_OP || ' ' || OLD.data_key);
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER rules_row BEFORE UPDATE OR DELETE ON rollout_task_q
	FOR EACH ROW WHEN (OLD.transaction_id LIKE 'RULES.%') EXECUTE FUNCTION pg_temp.log_row();
SELECT * FROM pg_temp.both_ways();
SELECT what, count(*) FROM rules_log GROUP BY what ORDER BY what;
DROP TRIGGER rules_row ON rollout_task_q;
TRUNCATE rules_log;

-- A foreign key referencing the queue (its check is a trigger): completing a
-- referenced task fails.
CREATE TABLE rules_ref (task_q_key bigint REFERENCES rollout_task_q);
CREATE FUNCTION pg_temp.reference_first() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.data_key = 'R-1' THEN
		INSERT INTO rules_ref VALUES (NEW.task_q_key);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER rules_reference AFTER INSERT ON rollout_task_q
	FOR EACH ROW EXECUTE FUNCTION pg_temp.reference_first();
CREATE OR REPLACE FUNCTION pg_temp.clear(tid text) RETURNS void LANGUAGE sql AS $$
	DELETE FROM rules_ref;
	DELETE FROM rollout_task_q WHERE transaction_id = tid;
$$;
SELECT * FROM pg_temp.both_ways();
DROP TRIGGER rules_reference ON rollout_task_q;
DROP TABLE rules_ref;
DELETE FROM rollout_task_q WHERE transaction_id LIKE 'RULES.%';
CREATE OR REPLACE FUNCTION pg_temp.clear(tid text) RETURNS void LANGUAGE sql AS $$
	DELETE FROM rollout_task_q WHERE transaction_id = tid;
$$;

-- Rules: they apply.
CREATE RULE rules_delete_log AS ON DELETE TO rollout_task_q
	DO ALSO INSERT INTO rules_log VALUES ('deleted ' || OLD.data_key);
SELECT * FROM pg_temp.both_ways();
SELECT what, count(*) FROM rules_log GROUP BY what ORDER BY what;
DROP RULE rules_delete_log ON rollout_task_q;

-- Row-level security: a claimer that is not the owner sees only its policy's
-- rows (superusers bypass it, so a role of its own).
CREATE ROLE regress_rules_agent;
GRANT USAGE ON SCHEMA public TO regress_rules_agent;
GRANT SELECT, UPDATE, DELETE ON rollout_task_q TO regress_rules_agent;
GRANT SELECT ON rollout_criteria, rollout_versions, rollout_ramp TO regress_rules_agent;
ALTER TABLE rollout_task_q ENABLE ROW LEVEL SECURITY;
CREATE POLICY rules_not_first ON rollout_task_q USING (data_key IS DISTINCT FROM 'R-1');
SELECT * FROM pg_temp.both_ways('regress_rules_agent');
DROP POLICY rules_not_first ON rollout_task_q;
ALTER TABLE rollout_task_q DISABLE ROW LEVEL SECURITY;

-- Column privileges only (no table-level UPDATE): the statement's
-- permission check decides, and they suffice (a retry may park the row, so
-- it writes hold_flag and parked_at too).
REVOKE UPDATE ON rollout_task_q FROM regress_rules_agent;
GRANT UPDATE (available_date, claim_token, claim_count, hold_flag, parked_at) ON rollout_task_q
	TO regress_rules_agent;
SELECT * FROM pg_temp.both_ways('regress_rules_agent');
-- Without the privilege on claim_count, both are refused.
REVOKE UPDATE (claim_count) ON rollout_task_q FROM regress_rules_agent;
SELECT * FROM pg_temp.both_ways('regress_rules_agent');
REVOKE ALL ON rollout_task_q, rollout_criteria, rollout_versions, rollout_ramp
	FROM regress_rules_agent;
REVOKE ALL ON SCHEMA public FROM regress_rules_agent;
DROP ROLE regress_rules_agent;

-- A CHECK constraint the lease breaks: both fail with 23514.
ALTER TABLE rollout_task_q ADD CONSTRAINT rules_short_lease
	CHECK (transaction_id NOT LIKE 'RULES.%' OR available_date < now() + interval '30 minutes')
	NOT VALID;
SELECT * FROM pg_temp.both_ways();
ALTER TABLE rollout_task_q DROP CONSTRAINT rules_short_lease;

-- A generated column over the claim count: recomputed.
ALTER TABLE rollout_task_q ADD COLUMN rules_twice integer GENERATED ALWAYS AS (claim_count * 2) STORED;
SELECT pg_temp.seed('RULES.generated');
SELECT data_key, rules_twice FROM rollout_claim('RULES.generated', 1);
SET rollout.direct_claim = off;
SELECT data_key, rules_twice FROM rollout_claim('RULES.generated', 1);
RESET rollout.direct_claim;
SELECT data_key, claim_count, rules_twice FROM rollout_task_q
 WHERE transaction_id = 'RULES.generated' ORDER BY data_key;
SELECT pg_temp.clear('RULES.generated');
ALTER TABLE rollout_task_q DROP COLUMN rules_twice;

-- A unique index the claim's new values break (every row of a batch gets the
-- same lease end): the direct claim checks it as the statement does, 23505.
CREATE UNIQUE INDEX rules_one_per_due ON rollout_task_q (available_date)
	WHERE transaction_id LIKE 'RULES.%';
SELECT * FROM pg_temp.both_ways();
DROP INDEX rules_one_per_due;

\x off

-- A read-only transaction: the statement refuses (25006), and so does the
-- direct write (a heap write would have succeeded).
SELECT pg_temp.seed('RULES.ro');
CREATE TEMP TABLE ro_claim AS SELECT task_q_key, claim_token FROM rollout_claim('RULES.ro', 1);
BEGIN READ ONLY;
SELECT count(*) FROM rollout_claim('RULES.ro');
ROLLBACK;
BEGIN READ ONLY;
SELECT rollout_complete(task_q_key, claim_token) FROM ro_claim;
ROLLBACK;
SET rollout.direct_claim = off;
BEGIN READ ONLY;
SELECT count(*) FROM rollout_claim('RULES.ro');
ROLLBACK;
BEGIN READ ONLY;
SELECT rollout_complete(task_q_key, claim_token) FROM ro_claim;
ROLLBACK;
RESET rollout.direct_claim;
-- Nothing changed: one row claimed, two due.
SELECT data_key, claim_token IS NOT NULL AS claimed FROM rollout_task_q
 WHERE transaction_id = 'RULES.ro' ORDER BY data_key;

-- REPEATABLE READ: the statement runs (it raises serialization failures a
-- heap write would not); shown by the reason.
SET client_min_messages = debug1;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rollout_complete(task_q_key, claim_token) FROM ro_claim;
COMMIT;
RESET client_min_messages;
DROP TABLE rules_log;
DELETE FROM rollout_task_q WHERE transaction_id LIKE 'RULES.%';
SELECT count(rollout_drop_criteria(criteria_id)) > 0 AS dropped
  FROM rollout_criteria WHERE criteria_id LIKE 'RULES.%';
