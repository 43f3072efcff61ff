-- rollout_ext 0.2.0 -> 0.3.0: what real clients needed, routing schemes the
-- load balancer computes, and per-version outcome statistics.
--
-- - A version bound as text, varchar, integer or bigint (what PgJDBC's
--   setString, setInt and setLong and psycopg's int and str send) is accepted
--   wherever a rollout_version is: function arguments and the version column.
--   The casts are implicit, so they apply to function calls; comparisons stay
--   comparisons of versions, as no implicit cast leads from a version to a
--   number or a string.
-- - rollout_retry_rows counts its delay from the retry statement, not from
--   the start of the transaction (rollout_retry, in C, does the same).
-- - rollout_retag and rollout_phase_out say, after checking their arguments
--   and before writing anything, that they need autocommit, instead of
--   failing at their first COMMIT.
-- - rollout_ramp.scheme, rollout_set_ramp(..., scheme), rollout_lb_config.
-- - rollout_stats, rollout_stats_reset; the completions of driver tables count
--   there through rollout_end_claim_rows.
-- - max_attempts in rollout_define_criteria parks rows of rollout_task_q
--   whose attempts ran out (rollout_task_q.parked_at); rollout_release_parked;
--   a parked column in rollout_backlog (the view is re-created: grants made
--   on it must be made again).
-- - rollout_phase_out waits for every transaction writing rows of the
--   version (rollout_wait_for_version_writers) before its final count.
-- - Progressive rollout: rollout_start_plan, rollout_advance, rollout_plans,
--   rollout_pause_plan, rollout_resume_plan, rollout_abort_plan, and
--   rollout_failure_p_value.

\echo Use "ALTER EXTENSION rollout_ext UPDATE TO '0.3.0'" to load this file. \quit

CREATE FUNCTION rollout_version(text) RETURNS rollout_version
	AS 'MODULE_PATHNAME', 'rollout_version_from_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (text AS rollout_version) WITH FUNCTION rollout_version(text) AS IMPLICIT;
CREATE CAST (varchar AS rollout_version) WITH FUNCTION rollout_version(text) AS IMPLICIT;
-- Were assignment casts; the reverse cast (rollout_version AS bigint) stays one.
DROP CAST (bigint AS rollout_version);
DROP CAST (integer AS rollout_version);
CREATE CAST (bigint AS rollout_version) WITH FUNCTION rollout_version(bigint) AS IMPLICIT;
CREATE CAST (integer AS rollout_version) WITH FUNCTION rollout_version(integer) AS IMPLICIT;


CREATE FUNCTION rollout_require_autocommit(procedure text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION rollout_require_autocommit(text) IS
	'internal: refuses, with the cure in the hint, a committing procedure called inside a transaction block';

CREATE OR REPLACE PROCEDURE rollout_retag(tbl regclass, from_version rollout_version,
                               to_version rollout_version, batch_size integer DEFAULT 1000,
                               INOUT moved bigint DEFAULT 0, INOUT skipped bigint DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
	plan record;
	batch_moved bigint;
BEGIN
	-- Bad arguments are reported first; the plan writes nothing.
	SELECT * INTO plan FROM @extschema@.rollout_retag_plan(tbl, from_version, to_version, batch_size);
	PERFORM @extschema@.rollout_require_autocommit('rollout_retag');
	moved := 0;
	LOOP
		batch_moved := @extschema@.rollout_retag_batch(tbl, plan.version_column, from_version,
		                                               to_version, batch_size,
		                                               plan.token_columns, plan.due_columns);
		moved := moved OPERATOR(pg_catalog.+) batch_moved;
		COMMIT;
		EXIT WHEN batch_moved OPERATOR(pg_catalog.<) batch_size;
	END LOOP;
	skipped := @extschema@.rollout_retag_finish(tbl, plan.version_column, from_version,
	                                            to_version, moved);
	COMMIT;
END
$$;

CREATE OR REPLACE FUNCTION rollout_phase_out_begin(old_version rollout_version, new_version rollout_version)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF old_version IS NULL OR new_version IS NULL THEN
		RAISE EXCEPTION 'old_version and new_version must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF old_version = new_version THEN
		RAISE EXCEPTION 'old_version and new_version must be different'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Bad arguments are reported first, then the missing autocommit, before
	-- anything is written.
	PERFORM @extschema@.rollout_require_autocommit('rollout_phase_out');
	PERFORM @extschema@.rollout_register_version(old_version)
	  WHERE NOT EXISTS (SELECT FROM @extschema@.rollout_versions v WHERE v.version = old_version);
	PERFORM @extschema@.rollout_set_version_state(old_version, 'draining')
	  WHERE (SELECT v.state FROM @extschema@.rollout_versions v WHERE v.version = old_version) = 'active';
END
$$;

-- ---------------------------------------------------------------------------
-- Routing schemes: the load balancer in front of the servers and the
-- database agree on every key.
-- ---------------------------------------------------------------------------

-- Ramps made before schemes existed keep murmur3, so every key stays where it
-- is.
ALTER TABLE rollout_ramp ADD COLUMN scheme text NOT NULL DEFAULT 'murmur3'
	CONSTRAINT rollout_ramp_scheme_check CHECK (scheme IN ('murmur3', 'nginx', 'haproxy'));
COMMENT ON COLUMN rollout_ramp.scheme IS
	'how a key maps to base or target: murmur3, nginx (split_clients) or haproxy (crc32,mod(10000))';

-- With a scheme. The three-argument form below keeps the current scheme, so
-- that a ramp step never changes it by leaving it out.
CREATE FUNCTION rollout_set_ramp(base rollout_version, target rollout_version, percent numeric,
                                 scheme text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	previous @extschema@.rollout_ramp;
	new_scheme text;
BEGIN
	IF base IS NULL OR target IS NULL OR percent IS NULL THEN
		RAISE EXCEPTION 'base, target and percent must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF percent < 0 OR percent > 100 OR percent <> round(percent, 2) THEN
		RAISE EXCEPTION 'percent must be between 0 and 100 with at most two decimals, not %', percent
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF base = target THEN
		RAISE EXCEPTION 'base and target must be different versions'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF scheme IS NOT NULL AND scheme NOT IN ('murmur3', 'nginx', 'haproxy') THEN
		RAISE EXCEPTION 'scheme must be murmur3, nginx or haproxy, not "%"', scheme
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO previous FROM @extschema@.rollout_ramp FOR UPDATE;
	new_scheme := coalesce(scheme, previous.scheme, 'murmur3');
	-- Another scheme deals the keys anew: from part way through a ramp to part
	-- way through it, orders the target owns would go to the base's servers,
	-- and the reverse. From or to 0 or 100 percent it is a plain ramp step
	-- (every key on one side before or after).
	IF new_scheme <> previous.scheme AND previous.percent > 0 AND previous.percent < 100
	   AND percent > 0 AND percent < 100
	   AND previous.base_version = base AND previous.target_version = target THEN
		RAISE EXCEPTION 'cannot change the routing scheme of a ramp at % percent', previous.percent
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'Another scheme sends other keys to the target: orders already routed to one version would go to the other''s servers.',
			      HINT = format('Change the scheme in a step to or from 0 or 100 percent: SELECT rollout_set_ramp(%L, %L, 0, scheme => %L).',
			                    @extschema@.rollout_version_format(base), @extschema@.rollout_version_format(target), new_scheme);
	END IF;
	INSERT INTO @extschema@.rollout_ramp AS r (base_version, target_version, percent, scheme)
	VALUES (base, target, percent, new_scheme)
	ON CONFLICT ON CONSTRAINT rollout_ramp_pkey DO UPDATE SET
		base_version = excluded.base_version, target_version = excluded.target_version,
		percent = excluded.percent, scheme = excluded.scheme, updated_at = now();
	INSERT INTO @extschema@.rollout_audit (action, version, detail)
	VALUES ('set_ramp', target, jsonb_build_object(
		'base', base::bigint, 'target', target::bigint, 'percent', percent, 'scheme', new_scheme,
		'previous_percent', previous.percent, 'previous_scheme', previous.scheme));
END
$$;
COMMENT ON FUNCTION rollout_set_ramp(rollout_version, rollout_version, numeric, text) IS
	'route percent (0.01 precision) of new keys to target, the rest to base, by a routing scheme (audited)';

CREATE OR REPLACE FUNCTION rollout_set_ramp(base rollout_version, target rollout_version, percent numeric)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	SELECT @extschema@.rollout_set_ramp(base, target, percent, NULL::text)
$$;
COMMENT ON FUNCTION rollout_set_ramp(rollout_version, rollout_version, numeric) IS
	'route percent (0.01 precision) of new keys to target, the rest to base, keeping the ramp''s scheme (audited)';

-- The bucket follows the current ramp's scheme now, so it is no longer
-- immutable; the two-argument form names the scheme and is.
ALTER FUNCTION rollout_route_bucket(text) STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION rollout_route_bucket(text) IS
	'the key''s routing bucket, 0 to 9999, under the current ramp''s scheme (murmur3 without a ramp): the key goes to the target at ramps above bucket / 100 percent';
CREATE FUNCTION rollout_route_bucket(routing_key text, scheme text) RETURNS integer
	AS 'MODULE_PATHNAME', 'rollout_route_bucket' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rollout_route_bucket(text, text) IS
	'the key''s routing bucket, 0 to 9999, under the scheme named: murmur3, nginx or haproxy';
COMMENT ON FUNCTION rollout_route(text) IS
	'the version that owns a new key under the current ramp, by the ramp''s scheme: target when its bucket is below percent * 100';

-- The load balancer's configuration for the current ramp, or for a planned
-- percent (a ramp-up reloads the load balancer before the database moves).
CREATE FUNCTION rollout_lb_config(format text, key text, base_backend text, target_backend text,
                                  percent numeric DEFAULT NULL)
RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	ramp @extschema@.rollout_ramp;
	p numeric;
	basis_points integer;
	header text;
BEGIN
	IF format IS NULL OR format NOT IN ('nginx', 'haproxy') THEN
		RAISE EXCEPTION 'format must be nginx or haproxy, not %', coalesce('"' || format || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- What goes into the configuration verbatim is checked, so that no
	-- argument can end a directive or open another.
	IF format = 'nginx' AND (key IS NULL OR key !~ '^\$[A-Za-z_][A-Za-z0-9_]*$') THEN
		RAISE EXCEPTION 'key must be an nginx variable such as $http_x_order_key, not %', coalesce('"' || key || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF format = 'haproxy' AND (key IS NULL OR key !~ '^[a-z][a-z0-9_.]*(\([A-Za-z0-9_.,-]*\))?$') THEN
		RAISE EXCEPTION 'key must be an HAProxy sample fetch such as req.fhdr(x-order-key), not %', coalesce('"' || key || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF base_backend IS NULL OR base_backend !~ '^[A-Za-z0-9_.-]+$' THEN
		RAISE EXCEPTION 'base_backend must be a name of letters, digits, "_", "." and "-", not %', coalesce('"' || base_backend || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF target_backend IS NULL OR target_backend !~ '^[A-Za-z0-9_.-]+$' THEN
		RAISE EXCEPTION 'target_backend must be a name of letters, digits, "_", "." and "-", not %', coalesce('"' || target_backend || '"', 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO ramp FROM @extschema@.rollout_ramp;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no rollout ramp is set'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Set one with rollout_set_ramp(base, target, percent, scheme => ''' || format || ''').';
	END IF;
	IF ramp.scheme <> format THEN
		RAISE EXCEPTION 'the ramp routes keys by scheme "%", which % cannot compute', ramp.scheme, format
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = format('Use scheme %L, set in a step to or from 0 or 100 percent: SELECT rollout_set_ramp(%L, %L, %s, scheme => %L).',
			                    format, rollout_version_format(ramp.base_version),
			                    rollout_version_format(ramp.target_version),
			                    CASE WHEN ramp.percent IN (0, 100) THEN ramp.percent ELSE 0 END, format);
	END IF;
	p := coalesce(percent, ramp.percent);
	IF p < 0 OR p > 100 OR p <> round(p, 2) THEN
		RAISE EXCEPTION 'percent must be between 0 and 100 with at most two decimals, not %', p
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	basis_points := (p * 100)::integer;
	header := pg_catalog.format('# rollout_ext: %s of new keys to %s (%s), the rest to %s (%s); scheme %s.',
	                            to_char(p, 'FM990.00') || '%', target_backend,
	                            rollout_version_format(ramp.target_version), base_backend,
	                            rollout_version_format(ramp.base_version), format);
	IF format = 'nginx' THEN
		-- split_clients takes no 0% entry; "*" takes what the entries leave.
		RETURN header || E'\n# In the http block; reload nginx after every ramp change.\n'
		    || pg_catalog.format(E'split_clients "%s" $rollout_backend {\n', key)
		    || CASE WHEN basis_points > 0 AND basis_points < 10000
		            THEN pg_catalog.format(E'    %s%% %s;\n', to_char(p, 'FM990.00'), target_backend)
		            ELSE '' END
		    || pg_catalog.format(E'    * %s;\n}\n',
		                         CASE WHEN basis_points = 10000 THEN target_backend ELSE base_backend END);
	END IF;
	RETURN header || E'\n# In the frontend section; reload HAProxy after every ramp change.\n'
	    || pg_catalog.format(E'http-request set-var(txn.rollout_bucket) %s,crc32,mod(10000)\n', key)
	    || CASE WHEN basis_points > 0 AND basis_points < 10000
	            THEN pg_catalog.format(E'use_backend %s if { var(txn.rollout_bucket) -m int lt %s }\n',
	                                   target_backend, basis_points)
	            ELSE '' END
	    || pg_catalog.format(E'default_backend %s\n',
	                         CASE WHEN basis_points = 10000 THEN target_backend ELSE base_backend END);
END
$$;
COMMENT ON FUNCTION rollout_lb_config(text, text, text, text, numeric) IS
	'the nginx split_clients block or the HAProxy frontend lines that route keys as the ramp does (or would at percent)';

-- ---------------------------------------------------------------------------
-- Per-version outcome statistics (needs shared_preload_libraries)
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_stats_rows(
	OUT queue_table oid, OUT transaction_id text, OUT version rollout_version,
	OUT claimed bigint, OUT completed bigint, OUT retried bigint, OUT refused bigint,
	OUT expired bigint, OUT parked bigint,
	OUT work_time bigint[], OUT work_p50 interval, OUT work_p95 interval, OUT work_p99 interval,
	OUT wait_time bigint[], OUT wait_p50 interval, OUT wait_p95 interval, OUT wait_p99 interval,
	OUT since timestamptz, OUT overflowed bigint)
RETURNS SETOF record AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_stats_rows() IS 'internal: the rows of rollout_stats';

CREATE VIEW rollout_stats AS
SELECT queue_table::regclass AS queue_table, transaction_id, version, claimed, completed, retried,
       refused, expired, parked, work_time, work_p50, work_p95, work_p99,
       wait_time, wait_p50, wait_p95, wait_p99, since, overflowed
  FROM rollout_stats_rows();
COMMENT ON VIEW rollout_stats IS
	'what claims, completions and retries did, per queue table, transaction and row version (since the last reset)';

CREATE FUNCTION rollout_stats_reset(queue_table regclass DEFAULT NULL, transaction_id text DEFAULT NULL,
                                    version rollout_version DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_stats_reset(regclass, text, rollout_version) IS
	'forget the rollout_stats keys that match every argument given (all of them when none is)';
REVOKE ALL ON FUNCTION rollout_stats_reset(regclass, text, rollout_version) FROM PUBLIC;

CREATE FUNCTION rollout_stats_count_end(queue_table regclass, transaction_id text,
                                        version rollout_version, outcome text, claim_token uuid)
RETURNS void AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_stats_count_end(regclass, text, rollout_version, text, uuid) IS
	'internal: counts the end of a claim on a driver table in rollout_stats';

-- The end of a claim on a registered table, counted in rollout_stats under
-- the row's transaction (the criteria id without a transaction column) and
-- version; a refusal is counted for the row as it is.
CREATE FUNCTION rollout_end_claim_rows(criteria_id text, key text, claim_token uuid,
                                       next_due timestamptz, outcome text)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	c @extschema@.rollout_criteria;
	key_type text;
	row_key text;
	row_transaction text;
	row_version @extschema@.rollout_version;
	changed bigint;
BEGIN
	SELECT * INTO c FROM @extschema@.rollout_criteria r WHERE r.criteria_id = rollout_end_claim_rows.criteria_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'criteria "%" does not exist', criteria_id USING ERRCODE = 'undefined_object';
	END IF;
	-- Finished task-queue rows are deleted, as rollout_complete does (and counts).
	IF c.queue_table = '@extschema@.rollout_task_q'::regclass AND next_due IS NULL THEN
		RETURN @extschema@.rollout_complete(key::bigint, claim_token);
	END IF;
	key_type := (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	              WHERE attrelid = c.queue_table AND attname = c.key_column);
	row_key := format('%s, %s',
		CASE WHEN c.transaction_column IS NULL THEN quote_literal(c.criteria_id)
		     ELSE quote_ident(c.transaction_column) || '::text' END,
		CASE WHEN EXISTS (SELECT FROM pg_attribute WHERE attrelid = c.queue_table
		                     AND attname = c.version_column AND NOT attisdropped)
		     THEN quote_ident(c.version_column) ELSE 'NULL::@extschema@.rollout_version' END);
	EXECUTE format('UPDATE %s SET %I = $3, %I = NULL WHERE %I = CAST($1 AS %s) AND %I = $2 RETURNING %s',
	               c.queue_table, c.due_column, c.token_column, c.key_column, key_type,
	               c.token_column, row_key)
		INTO row_transaction, row_version USING key, claim_token, next_due;
	GET DIAGNOSTICS changed = ROW_COUNT;
	IF changed = 0 THEN
		EXECUTE format('SELECT %s FROM %s WHERE %I = CAST($1 AS %s)', row_key, c.queue_table,
		               c.key_column, key_type)
			INTO row_transaction, row_version USING key;
	END IF;
	PERFORM @extschema@.rollout_stats_count_end(c.queue_table, row_transaction, row_version,
		CASE WHEN changed > 0 THEN outcome ELSE 'refused' END, claim_token);
	RETURN changed > 0;
END
$$;
COMMENT ON FUNCTION rollout_end_claim_rows(text, text, uuid, timestamptz, text) IS
	'internal: the work of rollout_complete_rows and rollout_retry_rows';

CREATE OR REPLACE FUNCTION rollout_complete_rows(criteria_id text, key text, claim_token uuid,
                                                 next_due timestamptz DEFAULT NULL)
RETURNS boolean LANGUAGE sql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	SELECT @extschema@.rollout_end_claim_rows(criteria_id, key, claim_token, next_due, 'completed')
$$;

CREATE FUNCTION rollout_histogram_count_above(histogram bigint[], above_ms double precision)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rollout_histogram_count_above(bigint[], double precision) IS
	'how many durations of a rollout_stats histogram are above above_ms milliseconds (spread evenly within each bucket)';

CREATE FUNCTION rollout_histogram_quantile(histogram bigint[], q double precision)
RETURNS interval AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rollout_histogram_quantile(bigint[], double precision) IS
	'the q-quantile of a rollout_stats work_time or wait_time histogram (or of several summed bucket by bucket)';

-- ---------------------------------------------------------------------------
-- Attempts run out: parking
-- ---------------------------------------------------------------------------

-- A retry of a row that has been claimed max_attempts times parks it: held,
-- out of every claim index, until rollout_release_parked. Nothing is deleted.
ALTER TABLE rollout_task_q ADD COLUMN parked_at timestamptz;
COMMENT ON COLUMN rollout_task_q.parked_at IS
	'when a retry found the row out of attempts and parked it (held until rollout_release_parked)';
ALTER TABLE rollout_criteria ADD COLUMN max_attempts integer CHECK (max_attempts > 0);

DROP FUNCTION rollout_define_criteria(text, text, regclass, name, name, name, name, name, boolean,
                                      boolean, integer, interval, name);
-- Every argument left NULL keeps the criteria's current value when it is
-- redefined, or takes the default shown in the README when it is new;
-- max_attempts => 0 removes a limit.
CREATE FUNCTION rollout_define_criteria(
	criteria_id text,
	transaction_id text DEFAULT NULL,
	queue_table regclass DEFAULT NULL,
	key_column name DEFAULT NULL,
	due_column name DEFAULT NULL,
	version_column name DEFAULT NULL,
	transaction_column name DEFAULT NULL,
	hold_column name DEFAULT NULL,
	multi_version boolean DEFAULT NULL,
	base_version boolean DEFAULT NULL,
	batch_size integer DEFAULT NULL,
	lease interval DEFAULT NULL,
	token_column name DEFAULT NULL,
	max_attempts integer DEFAULT NULL
) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	task_q CONSTANT regclass := '@extschema@.rollout_task_q'::regclass;
	current @extschema@.rollout_criteria;
	count_column name;
BEGIN
	IF criteria_id IS NULL THEN
		RAISE EXCEPTION 'criteria_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF length(criteria_id) NOT BETWEEN 1 AND 200 THEN
		RAISE EXCEPTION 'criteria id must be 1 to 200 characters long'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT * INTO current FROM @extschema@.rollout_criteria c
	 WHERE c.criteria_id = rollout_define_criteria.criteria_id;
	IF FOUND THEN
		transaction_id := coalesce(transaction_id, current.transaction_id);
		queue_table := coalesce(queue_table, current.queue_table);
		IF queue_table = current.queue_table THEN
			key_column := coalesce(key_column, current.key_column);
			due_column := coalesce(due_column, current.due_column);
			version_column := coalesce(version_column, current.version_column);
			transaction_column := coalesce(transaction_column, current.transaction_column);
			hold_column := coalesce(hold_column, current.hold_column);
			token_column := coalesce(token_column, current.token_column);
		END IF;
		multi_version := coalesce(multi_version, current.multi_version);
		base_version := coalesce(base_version, current.base_version);
		batch_size := coalesce(batch_size, current.batch_size);
		lease := coalesce(lease, current.lease);
		max_attempts := coalesce(max_attempts, current.max_attempts);
	END IF;
	transaction_id := coalesce(transaction_id, criteria_id);
	queue_table := coalesce(queue_table, task_q);
	version_column := coalesce(version_column, 'rollout_version');
	token_column := coalesce(token_column, 'rollout_claim_token');
	multi_version := coalesce(multi_version, true);
	base_version := coalesce(base_version, false);
	batch_size := coalesce(batch_size, 5000);
	lease := coalesce(lease, interval '5 minutes');

	IF batch_size <= 0 THEN
		RAISE EXCEPTION 'batch_size must be positive, not %', batch_size
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_attempts < 0 THEN
		RAISE EXCEPTION 'max_attempts must be positive, or 0 for no limit, not %', max_attempts
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	max_attempts := nullif(max_attempts, 0);
	IF lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive, not %', lease
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'The lease is how long a claimed row stays with its claimer before another agent may take it.';
	END IF;
	IF length(transaction_id) NOT BETWEEN 1 AND 200 THEN
		RAISE EXCEPTION 'transaction id must be 1 to 200 characters long'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	IF queue_table = task_q THEN
		key_column := 'task_q_key';
		due_column := 'available_date';
		version_column := 'rollout_version';
		transaction_column := 'transaction_id';
		hold_column := 'hold_flag';
		token_column := 'claim_token';
		count_column := 'claim_count';
	ELSE
		-- Parking needs the queue's claim count and a place to mark parked
		-- rows: rollout_task_q has both, a table of the application's not.
		IF max_attempts IS NOT NULL THEN
			RAISE EXCEPTION 'max_attempts needs the queue table rollout_task_q, not "%"', queue_table
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Count attempts in your own table and stop retrying there, or queue the work in rollout_task_q.';
		END IF;
		IF (SELECT relkind FROM pg_class WHERE oid = queue_table) NOT IN ('r', 'p') THEN
			RAISE EXCEPTION '"%" is not a table', queue_table USING ERRCODE = 'wrong_object_type';
		END IF;
		IF key_column IS NULL OR due_column IS NULL THEN
			RAISE EXCEPTION 'key_column and due_column are required for table "%"', queue_table
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'key_column identifies a row; due_column (timestamptz) says when it is due.';
		END IF;
		PERFORM @extschema@.rollout_check_columns(queue_table, ARRAY[key_column]);
		PERFORM @extschema@.rollout_check_column_type(queue_table, due_column, 'timestamptz');
		IF transaction_column IS NOT NULL THEN
			PERFORM @extschema@.rollout_check_column_type(queue_table, transaction_column, 'text');
		END IF;
		IF hold_column IS NOT NULL THEN
			PERFORM @extschema@.rollout_check_column_type(queue_table, hold_column, 'boolean');
		END IF;
		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = queue_table
		                AND attname = token_column AND attnum > 0 AND NOT attisdropped) THEN
			EXECUTE format('ALTER TABLE %s ADD COLUMN %I uuid', queue_table, token_column);
		END IF;
		PERFORM @extschema@.rollout_check_column_type(queue_table, token_column, 'uuid');
		-- A token column fences one claim at a time: criteria leasing through
		-- different due columns would overwrite each other's tokens.
		IF EXISTS (SELECT FROM @extschema@.rollout_criteria o
		            WHERE o.queue_table = rollout_define_criteria.queue_table
		              AND o.token_column = rollout_define_criteria.token_column
		              AND o.due_column <> rollout_define_criteria.due_column
		              AND o.criteria_id <> rollout_define_criteria.criteria_id) THEN
			RAISE EXCEPTION 'token column "%" of "%" is used by a criteria with another due column',
				token_column, queue_table
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Give this criteria its own token_column.';
		END IF;
	END IF;
	IF multi_version THEN
		PERFORM @extschema@.rollout_check_column_type(queue_table, version_column,
		                                              '@extschema@.rollout_version');
	END IF;

	INSERT INTO @extschema@.rollout_criteria AS c
		(criteria_id, transaction_id, queue_table, key_column, due_column, version_column,
		 transaction_column, hold_column, token_column, count_column, multi_version,
		 base_version, batch_size, lease, max_attempts)
	VALUES (criteria_id, transaction_id, queue_table, key_column, due_column, version_column,
	        transaction_column, hold_column, token_column, count_column, multi_version,
	        base_version, batch_size, lease, max_attempts)
	ON CONFLICT ON CONSTRAINT rollout_criteria_pkey DO UPDATE SET
		transaction_id = excluded.transaction_id, queue_table = excluded.queue_table,
		key_column = excluded.key_column, due_column = excluded.due_column,
		version_column = excluded.version_column,
		transaction_column = excluded.transaction_column, hold_column = excluded.hold_column,
		token_column = excluded.token_column, count_column = excluded.count_column,
		multi_version = excluded.multi_version, base_version = excluded.base_version,
		batch_size = excluded.batch_size, lease = excluded.lease,
		max_attempts = excluded.max_attempts, updated_at = now();
END
$$;
COMMENT ON FUNCTION rollout_define_criteria(text, text, regclass, name, name, name, name, name, boolean, boolean, integer, interval, name, integer) IS
	'register or update an agent criteria (the reference system''s EnableMultiVersionSupport and IsBaseVersion)';

CREATE FUNCTION rollout_release_parked(criteria_id text, version rollout_version DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	c @extschema@.rollout_criteria;
	released bigint;
BEGIN
	IF criteria_id IS NULL THEN
		RAISE EXCEPTION 'criteria_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO c FROM @extschema@.rollout_criteria r WHERE r.criteria_id = rollout_release_parked.criteria_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'criteria "%" does not exist', criteria_id USING ERRCODE = 'undefined_object';
	END IF;
	-- Only rollout_task_q parks rows.
	IF c.queue_table <> '@extschema@.rollout_task_q'::regclass THEN
		RETURN 0;
	END IF;
	UPDATE @extschema@.rollout_task_q q
	   SET hold_flag = false, parked_at = NULL, claim_count = 0, available_date = statement_timestamp()
	 WHERE q.transaction_id = c.transaction_id AND q.parked_at IS NOT NULL
	   AND (rollout_release_parked.version IS NULL OR q.rollout_version = rollout_release_parked.version);
	GET DIAGNOSTICS released = ROW_COUNT;
	RETURN released;
END
$$;
COMMENT ON FUNCTION rollout_release_parked(text, rollout_version) IS
	'make the parked rows of a criteria''s transaction (of one version, if given) due again, with their attempts reset';

-- A retry on rollout_task_q goes through rollout_retry, which parks.
CREATE OR REPLACE FUNCTION rollout_retry_rows(criteria_id text, key text, claim_token uuid, delay interval)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF delay IS NULL OR delay < interval '0' THEN
		RAISE EXCEPTION 'delay must be zero or positive, not %', coalesce(delay::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (SELECT c.queue_table FROM @extschema@.rollout_criteria c
	     WHERE c.criteria_id = rollout_retry_rows.criteria_id) = '@extschema@.rollout_task_q'::regclass THEN
		RETURN @extschema@.rollout_retry(key::bigint, claim_token, delay);
	END IF;
	RETURN @extschema@.rollout_end_claim_rows(criteria_id, key, claim_token,
	                                           statement_timestamp() + delay, 'retried');
END
$$;

DROP VIEW rollout_backlog;
DROP FUNCTION rollout_backlog_rows();
-- One pass per queue table, grouped by transaction and version, then matched
-- to the criteria that read it.
CREATE FUNCTION rollout_backlog_rows()
RETURNS TABLE (criteria_id text, transaction_id text, queue_table regclass,
               version rollout_version, ready bigint, claimed bigint, scheduled bigint,
               held bigint, parked bigint, oldest_ready_age interval)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	q record;
BEGIN
	FOR q IN
		SELECT c.queue_table, c.due_column, c.version_column, c.transaction_column,
		       c.hold_column, c.token_column, bool_or(c.multi_version) AS versioned,
		       array_agg(c.transaction_id) AS transactions, array_agg(c.criteria_id) AS criteria
		  FROM @extschema@.rollout_criteria c
		 GROUP BY 1, 2, 3, 4, 5, 6
	LOOP
		RETURN QUERY EXECUTE format(
			'WITH counts AS (
			   SELECT %1$s AS txn, %2$s AS version,
			          count(*) FILTER (WHERE NOT %3$s AND %4$I <= now()) AS ready,
			          count(*) FILTER (WHERE NOT %3$s AND %4$I > now() AND %5$I IS NOT NULL) AS claimed,
			          count(*) FILTER (WHERE NOT %3$s AND %4$I > now() AND %5$I IS NULL) AS scheduled,
			          count(*) FILTER (WHERE %3$s AND NOT %9$s) AS held,
			          count(*) FILTER (WHERE %9$s) AS parked,
			          now() - min(%4$I) FILTER (WHERE NOT %3$s AND %4$I <= now()) AS oldest
			     FROM %6$s
			    WHERE %4$I IS NOT NULL %7$s
			    GROUP BY 1, 2)
			 SELECT c.criteria_id, c.transaction_id, c.queue_table, n.version,
			        n.ready, n.claimed, n.scheduled, n.held, n.parked, n.oldest
			   FROM @extschema@.rollout_criteria c
			   JOIN counts n ON n.txn IS NOT DISTINCT FROM %8$s
			  WHERE c.criteria_id = ANY ($3)',
			CASE WHEN q.transaction_column IS NULL THEN 'NULL::text' ELSE quote_ident(q.transaction_column) END,
			CASE WHEN q.versioned THEN quote_ident(q.version_column) ELSE 'NULL::@extschema@.rollout_version' END,
			CASE WHEN q.hold_column IS NULL THEN 'false' ELSE format('coalesce(%I, false)', q.hold_column) END,
			q.due_column, q.token_column, q.queue_table,
			CASE WHEN q.transaction_column IS NULL THEN ''
			     ELSE format('AND %I = ANY ($2)', q.transaction_column) END,
			CASE WHEN q.transaction_column IS NULL THEN 'NULL::text' ELSE 'c.transaction_id' END,
			CASE WHEN q.queue_table = '@extschema@.rollout_task_q'::regclass
			     THEN 'parked_at IS NOT NULL' ELSE 'false' END)
		USING q.queue_table, q.transactions, q.criteria;
	END LOOP;
END
$$;

CREATE VIEW rollout_backlog AS
SELECT * FROM @extschema@.rollout_backlog_rows()
 ORDER BY criteria_id, version;
COMMENT ON VIEW rollout_backlog IS
	'per criteria and version: rows ready, claimed (leased), scheduled for later, held, and parked (out of attempts), and the age of the oldest ready row';


-- ---------------------------------------------------------------------------
-- Phase-out waits for every writer of the version, not only for those that
-- began after it was draining: a transaction that tagged a row of it just
-- before, and committed after the final count, left a row of a retired
-- version behind (test/isolation/specs/plan_concurrent.spec).
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_wait_for_version_writers(version rollout_version) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION rollout_wait_for_version_writers(rollout_version) IS
	'internal: waits for the transactions writing rows of version, and holds new ones off until this transaction ends';

-- Ends a phase-out pass: retires old_version when nothing of it is left in
-- any tagged table. Counted again here, in the transaction that retires, so a
-- row committed during the pass is not missed.
CREATE OR REPLACE FUNCTION rollout_phase_out_finish(old_version rollout_version, INOUT remaining bigint,
                                         OUT state text)
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	t record;
	n bigint;
BEGIN
	-- Every transaction tagging rows of the version holds its write lock
	-- until it ends, whether it began before the version was draining or
	-- after; waiting for them here makes the count below see their rows.
	PERFORM @extschema@.rollout_wait_for_version_writers(old_version);
	remaining := 0;
	FOR t IN SELECT tbl, column_name FROM @extschema@.rollout_tagged_tables LOOP
		EXECUTE format('SELECT count(*) FROM %s WHERE %I = $1', t.tbl, t.column_name)
			INTO n USING old_version;
		remaining := remaining + n;
	END LOOP;
	IF remaining = 0 THEN
		PERFORM @extschema@.rollout_set_version_state(old_version, 'retired');
	ELSE
		RAISE NOTICE '% rows of version % remain (claimed, or written during this pass); run rollout_phase_out again once their leases end',
			remaining, @extschema@.rollout_version_format(old_version);
	END IF;
	state := (SELECT v.state FROM @extschema@.rollout_versions v WHERE v.version = old_version);
END
$$;

-- ---------------------------------------------------------------------------
-- Progressive rollout: a plan ramps the target step by step, judges each step
-- on rollout_stats against the base, and aborts and rolls back on its own.
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_failure_p_value(target_failed bigint, target_finished bigint,
                                        base_failed bigint, base_finished bigint)
RETURNS double precision AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rollout_failure_p_value(bigint, bigint, bigint, bigint) IS
	'one-sided p-value that the target fails more often than the base (Fisher''s exact test; a z-test at very large counts)';

CREATE TABLE rollout_plan (
	plan_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	base_version rollout_version NOT NULL,
	target_version rollout_version NOT NULL,
	steps numeric[] NOT NULL,
	step_hold interval NOT NULL,
	min_samples integer NOT NULL,
	max_failure_ratio numeric NOT NULL,
	failure_tolerance numeric NOT NULL,
	max_work_time_ratio numeric NOT NULL,
	confidence numeric NOT NULL,
	on_failure text NOT NULL CHECK (on_failure IN ('rollback', 'abort')),
	state text NOT NULL DEFAULT 'running'
		CHECK (state IN ('running', 'paused', 'completed', 'aborted', 'rolled_back')),
	step integer NOT NULL DEFAULT 1,  -- steps[step] is the current percent
	step_started_at timestamptz NOT NULL DEFAULT now(),
	aborted_at timestamptz,
	last_decision text CHECK (last_decision IN ('advance', 'hold', 'inconclusive', 'abort')),
	reason text,
	figures jsonb,  -- the last evaluation's gate figures, per transaction and in total
	evaluated_at timestamptz,
	started_by name NOT NULL DEFAULT session_user,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz
);
COMMENT ON TABLE rollout_plan IS
	'progressive rollouts started with rollout_start_plan(); read them through rollout_plans';
-- The ramp is one row, so one plan at a time drives it: running, paused, or
-- aborted and still rolling back.
CREATE UNIQUE INDEX rollout_plan_one_active ON rollout_plan ((true))
	WHERE state IN ('running', 'paused') OR (state = 'aborted' AND on_failure = 'rollback');
SELECT pg_catalog.pg_extension_config_dump('rollout_plan', '');
SELECT pg_catalog.pg_extension_config_dump('rollout_plan_plan_id_seq', '');

-- rollout_stats counts since a key began; a plan judges windows. These are
-- the counts of the plan's two versions when the plan, and when its current
-- step, began. A key reset since (its `since` moved) counts from the reset.
CREATE TABLE rollout_plan_baseline (
	plan_id bigint NOT NULL REFERENCES rollout_plan ON DELETE CASCADE,
	scope text NOT NULL CHECK (scope IN ('plan', 'step')),
	queue_table regclass NOT NULL,
	transaction_id text,
	version rollout_version NOT NULL,
	since timestamptz NOT NULL,
	completed bigint NOT NULL,
	failed bigint NOT NULL,  -- retried + parked + expired
	work_time bigint[] NOT NULL
);
CREATE INDEX rollout_plan_baseline_plan ON rollout_plan_baseline (plan_id, scope);
COMMENT ON TABLE rollout_plan_baseline IS
	'internal: rollout_stats as it was when each plan and its current step began';
SELECT pg_catalog.pg_extension_config_dump('rollout_plan_baseline', '');

CREATE FUNCTION rollout_plan_snapshot(plan_id bigint, scope text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	DELETE FROM @extschema@.rollout_plan_baseline b
	 WHERE b.plan_id = rollout_plan_snapshot.plan_id AND b.scope = rollout_plan_snapshot.scope;
	INSERT INTO @extschema@.rollout_plan_baseline
	SELECT p.plan_id, rollout_plan_snapshot.scope, s.queue_table, s.transaction_id, s.version,
	       s.since, s.completed, s.retried + s.parked + s.expired, s.work_time
	  FROM @extschema@.rollout_plan p
	  JOIN @extschema@.rollout_stats s ON s.version IN (p.base_version, p.target_version)
	 WHERE p.plan_id = rollout_plan_snapshot.plan_id AND s.queue_table IS NOT NULL;
$$;
COMMENT ON FUNCTION rollout_plan_snapshot(bigint, text) IS
	'internal: records rollout_stats for a plan''s versions as a window''s start';

-- What the plan's two versions finished since the plan began and since its
-- step began, per queue table and transaction: one read of rollout_stats
-- against the two baselines.
CREATE FUNCTION rollout_plan_windows(plan_id bigint)
RETURNS TABLE (queue_table regclass, transaction_id text, version rollout_version,
               step_finished bigint, step_failed bigint, step_work_time bigint[],
               plan_finished bigint, plan_failed bigint, plan_work_time bigint[])
LANGUAGE sql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	SELECT s.queue_table, s.transaction_id, s.version,
	       s.completed + s.retried + s.parked + s.expired - coalesce(bs.completed + bs.failed, 0),
	       s.retried + s.parked + s.expired - coalesce(bs.failed, 0),
	       ARRAY(SELECT u.now_count - coalesce(u.then_count, 0)
	               FROM unnest(s.work_time, bs.work_time) WITH ORDINALITY AS u(now_count, then_count, i)
	              ORDER BY u.i),
	       s.completed + s.retried + s.parked + s.expired - coalesce(bp.completed + bp.failed, 0),
	       s.retried + s.parked + s.expired - coalesce(bp.failed, 0),
	       ARRAY(SELECT u.now_count - coalesce(u.then_count, 0)
	               FROM unnest(s.work_time, bp.work_time) WITH ORDINALITY AS u(now_count, then_count, i)
	              ORDER BY u.i)
	  FROM @extschema@.rollout_plan p
	  JOIN @extschema@.rollout_stats s ON s.version IN (p.base_version, p.target_version)
	  -- A baseline counts only for the same key since the same reset.
	  LEFT JOIN @extschema@.rollout_plan_baseline bs
	    ON bs.plan_id = p.plan_id AND bs.scope = 'step'
	   AND bs.queue_table = s.queue_table AND bs.transaction_id IS NOT DISTINCT FROM s.transaction_id
	   AND bs.version = s.version AND bs.since = s.since
	  LEFT JOIN @extschema@.rollout_plan_baseline bp
	    ON bp.plan_id = p.plan_id AND bp.scope = 'plan'
	   AND bp.queue_table = s.queue_table AND bp.transaction_id IS NOT DISTINCT FROM s.transaction_id
	   AND bp.version = s.version AND bp.since = s.since
	 WHERE p.plan_id = rollout_plan_windows.plan_id AND s.queue_table IS NOT NULL
$$;
COMMENT ON FUNCTION rollout_plan_windows(bigint) IS
	'internal: per transaction and version, what finished since the plan began and since its step began';

-- The gate of the plan's current step. Per transaction both versions worked
-- on: the target over the step; the base over the step, or over the whole
-- plan where the step gave it fewer than min_samples rows (at high percents
-- the base gets little new work).
CREATE FUNCTION rollout_plan_gate(plan rollout_plan, OUT decision text, OUT reason text,
                                  OUT figures jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	per_transaction jsonb;
	totals jsonb;
	worse text;
	target_finished bigint;
BEGIN
	WITH windows AS MATERIALIZED (SELECT * FROM @extschema@.rollout_plan_windows(plan.plan_id)),
	pairs AS (
		SELECT t.queue_table, t.transaction_id,
		       t.step_finished AS t_fin, t.step_failed AS t_fail, t.step_work_time AS t_work,
		       CASE WHEN u.step_enough THEN b.step_finished ELSE b.plan_finished END AS b_fin,
		       CASE WHEN u.step_enough THEN b.step_failed ELSE b.plan_failed END AS b_fail,
		       CASE WHEN u.step_enough THEN b.step_work_time ELSE b.plan_work_time END AS b_work,
		       CASE WHEN u.step_enough THEN 'step' ELSE 'plan' END AS b_window
		  FROM windows t
		  LEFT JOIN windows b
		    ON b.version = plan.base_version AND b.queue_table = t.queue_table
		   AND b.transaction_id IS NOT DISTINCT FROM t.transaction_id
		 CROSS JOIN LATERAL (SELECT coalesce(b.step_finished, 0) >= plan.min_samples AS step_enough) u
		 WHERE t.version = plan.target_version),
	judged AS (
		SELECT p.*,
		       p.t_fail::numeric / p.t_fin AS t_rate, p.b_fail::numeric / p.b_fin AS b_rate,
		       @extschema@.rollout_failure_p_value(p.t_fail, p.t_fin, p.b_fail, p.b_fin) AS p_value,
		       @extschema@.rollout_histogram_quantile(p.t_work, 0.95) AS t_p95,
		       @extschema@.rollout_histogram_quantile(p.b_work, 0.95) AS b_p95
		  FROM pairs p WHERE p.t_fin > 0 AND p.b_fin > 0),
	-- Slower: the rows above max_work_time_ratio × the base's p95, counted
	-- from both histograms, tested as failures are. A p95 from a few dozen
	-- rows in log2 buckets moves by a bucket (2×) by chance alone.
	-- Each transaction is one more test: the level is shared among them
	-- (Bonferroni), so that many transactions do not make a false alarm likely.
	slowness AS (
		SELECT j.*, s.slow_ms, (1 - plan.confidence) / count(*) OVER () AS alpha,
		       round(@extschema@.rollout_histogram_count_above(j.t_work, s.slow_ms))::bigint AS t_slow,
		       (SELECT sum(n) FROM unnest(j.t_work) n)::bigint AS t_timed,
		       round(@extschema@.rollout_histogram_count_above(j.b_work, s.slow_ms))::bigint AS b_slow,
		       (SELECT sum(n) FROM unnest(j.b_work) n)::bigint AS b_timed
		  FROM judged j
		 CROSS JOIN LATERAL (SELECT extract(epoch FROM j.b_p95)::double precision * 1000
		                            * plan.max_work_time_ratio::double precision AS slow_ms) s),
	verdict AS (
		SELECT w.*,
		       w.t_rate > plan.max_failure_ratio * w.b_rate + plan.failure_tolerance
		           AND w.p_value < w.alpha AS fails_more,
		       -- Work times are compared over the same window only: they grow with
		       -- a version's load (agents claim in batches), and the base's rows
		       -- since the plan began were done under another load than the
		       -- target's in this step.
		       coalesce(w.b_window = 'step'
		                AND w.t_fin >= plan.min_samples AND w.b_fin >= plan.min_samples
		                AND w.t_p95 > w.b_p95 * plan.max_work_time_ratio::double precision
		                AND @extschema@.rollout_failure_p_value(least(w.t_slow, w.t_timed), w.t_timed,
		                                                        least(w.b_slow, w.b_timed), w.b_timed)
		                    < w.alpha, false) AS works_slower,
		       @extschema@.rollout_failure_p_value(least(w.t_slow, w.t_timed), coalesce(w.t_timed, 0),
		                                           least(w.b_slow, w.b_timed), coalesce(w.b_timed, 0)) AS slow_p_value
		  FROM slowness w)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
	           'queue_table', v.queue_table::text, 'transaction_id', v.transaction_id,
	           'target_finished', v.t_fin, 'target_failed', v.t_fail,
	           'target_failure_rate', round(v.t_rate, 4), 'target_work_p95', v.t_p95,
	           'base_finished', v.b_fin, 'base_failed', v.b_fail,
	           'base_failure_rate', round(v.b_rate, 4), 'base_work_p95', v.b_p95,
	           'base_window', v.b_window, 'p_value', v.p_value,
	           'target_slow', v.t_slow, 'base_slow', v.b_slow, 'slow_p_value', v.slow_p_value,
	           'fails_more', v.fails_more, 'works_slower', v.works_slower)
	           ORDER BY v.queue_table::text, v.transaction_id), '[]'),
	       jsonb_build_object(
	           'transactions', count(*),
	           'target_finished', coalesce(sum(v.t_fin), 0), 'target_failed', coalesce(sum(v.t_fail), 0),
	           'base_finished', coalesce(sum(v.b_fin), 0), 'base_failed', coalesce(sum(v.b_fail), 0),
	           'target_work_p95', max(v.t_p95), 'base_work_p95', max(v.b_p95),
	           'p_value', min(v.p_value)),
	       string_agg(CASE
	           WHEN v.fails_more THEN format(
	               '%s: the target failed %s of %s rows (%s%%), the base %s of %s (%s%%), above %s × the base''s rate + %s and worse with p = %s < %s',
	               coalesce(v.transaction_id, v.queue_table::text), v.t_fail, v.t_fin, round(100 * v.t_rate, 2),
	               v.b_fail, v.b_fin, round(100 * v.b_rate, 2), plan.max_failure_ratio,
	               plan.failure_tolerance, btrim(to_char(v.p_value, '9.99EEEE')), round(v.alpha, 6)::float8)
	           WHEN v.works_slower THEN format(
	               '%s: the target''s work time p95 %s is above %s × the base''s %s, with %s of its %s rows slower than that against %s of the base''s %s (p = %s < %s)',
	               coalesce(v.transaction_id, v.queue_table::text), v.t_p95, plan.max_work_time_ratio,
	               v.b_p95, v.t_slow, v.t_timed, v.b_slow, v.b_timed,
	               btrim(to_char(v.slow_p_value, '9.99EEEE')), round(v.alpha, 6)::float8)
	           END, '; ' ORDER BY v.queue_table::text, v.transaction_id),
	       coalesce(sum(v.t_fin), 0)
	  INTO per_transaction, totals, worse, target_finished
	  FROM verdict v;

	figures := jsonb_build_object('transactions', per_transaction, 'totals', totals);
	IF worse IS NOT NULL THEN
		decision := 'abort';
		reason := worse;
	ELSIF target_finished < plan.min_samples THEN
		decision := 'inconclusive';
		reason := CASE WHEN totals->>'transactions' = '0'
		               THEN 'no transaction has finished rows of both versions in this step yet'
		               ELSE format('the target finished %s of the %s rows the step needs (no worse so far: failed %s, base failure rate %s%%)',
		                           target_finished, plan.min_samples, totals->>'target_failed',
		                           round(100 * (totals->>'base_failed')::numeric
		                                 / nullif((totals->>'base_finished')::numeric, 0), 2))
		          END;
	ELSE
		reason := format('the target failed %s of %s rows, the base %s of %s (p = %s); work time p95 %s against %s',
		                 totals->>'target_failed', totals->>'target_finished',
		                 totals->>'base_failed', totals->>'base_finished',
		                 btrim(to_char((totals->>'p_value')::double precision, '9.99EEEE')),
		                 totals->>'target_work_p95', totals->>'base_work_p95');
		IF now() - plan.step_started_at < plan.step_hold THEN
			decision := 'hold';
			reason := format('no worse so far, the step holds for %s (%s passed): %s',
			                 plan.step_hold, date_trunc('second', now() - plan.step_started_at), reason);
		ELSE
			decision := 'advance';
		END IF;
	END IF;
END
$$;
COMMENT ON FUNCTION rollout_plan_gate(rollout_plan) IS
	'internal: the gate of a plan''s current step: advance, hold, inconclusive or abort, with the figures that decided';

CREATE FUNCTION rollout_plan_audit(plan rollout_plan, action text, detail jsonb) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	INSERT INTO @extschema@.rollout_audit (action, version, detail)
	VALUES (action, plan.target_version,
	        jsonb_build_object('plan_id', plan.plan_id, 'base', plan.base_version::bigint,
	                           'target', plan.target_version::bigint, 'state', plan.state,
	                           'percent', plan.steps[plan.step]) || detail);
$$;
COMMENT ON FUNCTION rollout_plan_audit(rollout_plan, text, jsonb) IS
	'internal: writes a plan''s action to rollout_audit';

-- Stops a plan: the ramp goes to 0 at once; rollout_advance rolls the
-- target's rows back to the base when on_failure is 'rollback'.
CREATE FUNCTION rollout_plan_stop(plan_id bigint, why text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	plan @extschema@.rollout_plan;
BEGIN
	UPDATE @extschema@.rollout_plan p
	   SET state = 'aborted', aborted_at = clock_timestamp(),
	       finished_at = CASE WHEN p.on_failure = 'abort' THEN now() END
	 WHERE p.plan_id = rollout_plan_stop.plan_id
	RETURNING * INTO plan;
	PERFORM @extschema@.rollout_set_ramp(plan.base_version, plan.target_version, 0);
	PERFORM @extschema@.rollout_plan_audit(plan, 'plan_abort',
		jsonb_build_object('reason', why, 'on_failure', plan.on_failure));
END
$$;
COMMENT ON FUNCTION rollout_plan_stop(bigint, text) IS 'internal: aborts a plan';

CREATE FUNCTION rollout_start_plan(
	base rollout_version,
	target rollout_version,
	steps numeric[] DEFAULT '{1,5,25,50,100}',
	step_hold interval DEFAULT '10 minutes',
	min_samples integer DEFAULT 200,
	max_failure_ratio numeric DEFAULT 2.0,
	failure_tolerance numeric DEFAULT 0.01,
	max_work_time_ratio numeric DEFAULT 2.0,
	confidence numeric DEFAULT 0.99,
	on_failure text DEFAULT 'rollback'
) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	plan @extschema@.rollout_plan;
	active @extschema@.rollout_plan;
	ramp @extschema@.rollout_ramp;
	v record;
BEGIN
	FOR v IN SELECT * FROM (VALUES ('base', base), ('target', target)) AS a (argument, version) LOOP
		IF v.version IS NULL THEN
			RAISE EXCEPTION '% must not be null', v.argument USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NOT EXISTS (SELECT FROM @extschema@.rollout_versions r
		                WHERE r.version = v.version AND r.state = 'active') THEN
			RAISE EXCEPTION '% version % is not a registered, active version', v.argument,
				@extschema@.rollout_version_format(v.version)
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Register it with rollout_register_version(); a draining or retired version cannot take part in a plan.';
		END IF;
	END LOOP;
	IF base = target THEN
		RAISE EXCEPTION 'base and target must be different versions' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF cardinality(steps) IS NULL OR cardinality(steps) = 0 OR array_ndims(steps) > 1
	   OR array_position(steps, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'steps must be a non-empty list of percents, not %', coalesce(steps::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT FROM unnest(steps) WITH ORDINALITY AS s(percent, i)
	            WHERE s.percent <= 0 OR s.percent > 100 OR s.percent <> round(s.percent, 2)
	               OR s.percent <= steps[s.i - 1]) THEN
		RAISE EXCEPTION 'steps must increase strictly, each above 0 and at most 100 with at most two decimals, not %', steps
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF step_hold IS NULL OR step_hold <= interval '0' THEN
		RAISE EXCEPTION 'step_hold must be positive, not %', coalesce(step_hold::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF min_samples IS NULL OR min_samples < 1 THEN
		RAISE EXCEPTION 'min_samples must be at least 1, not %', coalesce(min_samples::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_failure_ratio IS NULL OR max_failure_ratio < 1 THEN
		RAISE EXCEPTION 'max_failure_ratio must be at least 1, not %', coalesce(max_failure_ratio::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF failure_tolerance IS NULL OR failure_tolerance < 0 OR failure_tolerance >= 1 THEN
		RAISE EXCEPTION 'failure_tolerance must be at least 0 and below 1, not %', coalesce(failure_tolerance::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_work_time_ratio IS NULL OR max_work_time_ratio < 1 THEN
		RAISE EXCEPTION 'max_work_time_ratio must be at least 1, not %', coalesce(max_work_time_ratio::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF confidence IS NULL OR confidence <= 0.5 OR confidence >= 1 THEN
		RAISE EXCEPTION 'confidence must be above 0.5 and below 1, not %', coalesce(confidence::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF on_failure IS NULL OR on_failure NOT IN ('rollback', 'abort') THEN
		RAISE EXCEPTION 'on_failure must be rollback or abort, not %', coalesce(quote_literal(on_failure), 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT * INTO active FROM @extschema@.rollout_plan p
	 WHERE p.state IN ('running', 'paused') OR (p.state = 'aborted' AND p.on_failure = 'rollback');
	IF FOUND THEN
		RAISE EXCEPTION 'plan % (% to %) is %', active.plan_id,
			@extschema@.rollout_version_format(active.base_version),
			@extschema@.rollout_version_format(active.target_version),
			CASE active.state WHEN 'aborted' THEN 'still rolling back' ELSE active.state END
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'The ramp is one split, so one plan drives it at a time.',
			      HINT = format('Let it finish, or stop it with rollout_abort_plan(%s, ''reason'').', active.plan_id);
	END IF;
	SELECT * INTO ramp FROM @extschema@.rollout_ramp;
	IF FOUND AND ramp.percent > 0 AND ramp.percent < 100
	   AND (ramp.base_version <> base OR ramp.target_version <> target) THEN
		RAISE EXCEPTION 'the ramp routes % percent of keys from % to %', ramp.percent,
			@extschema@.rollout_version_format(ramp.base_version),
			@extschema@.rollout_version_format(ramp.target_version)
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Finish that ramp (0 or 100 percent) before a plan for other versions takes over.';
	END IF;

	INSERT INTO @extschema@.rollout_plan AS p
		(base_version, target_version, steps, step_hold, min_samples, max_failure_ratio,
		 failure_tolerance, max_work_time_ratio, confidence, on_failure)
	VALUES (base, target, steps, step_hold, min_samples, max_failure_ratio, failure_tolerance,
	        max_work_time_ratio, confidence, on_failure)
	RETURNING * INTO plan;
	-- Needs the statistics: without preloading, rollout_stats raises 55000 here.
	PERFORM @extschema@.rollout_plan_snapshot(plan.plan_id, 'plan');
	PERFORM @extschema@.rollout_plan_snapshot(plan.plan_id, 'step');
	PERFORM @extschema@.rollout_set_ramp(base, target, steps[1]);
	PERFORM @extschema@.rollout_plan_audit(plan, 'plan_start', jsonb_build_object(
		'steps', steps, 'step_hold', step_hold, 'min_samples', min_samples,
		'max_failure_ratio', max_failure_ratio, 'failure_tolerance', failure_tolerance,
		'max_work_time_ratio', max_work_time_ratio, 'confidence', confidence,
		'on_failure', on_failure));
	RETURN plan.plan_id;
END
$$;
COMMENT ON FUNCTION rollout_start_plan(rollout_version, rollout_version, numeric[], interval, integer, numeric, numeric, numeric, numeric, text) IS
	'start ramping target step by step, gated on rollout_stats against base; rollout_advance() moves it';

-- One evaluation of one running plan, in the caller's transaction. A plan
-- another evaluation holds is skipped (NULL): that one decides.
CREATE FUNCTION rollout_plan_decide(plan_id bigint) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	plan @extschema@.rollout_plan;
	gate record;
	last_step boolean;
BEGIN
	SELECT * INTO plan FROM @extschema@.rollout_plan p
	 WHERE p.plan_id = rollout_plan_decide.plan_id AND p.state = 'running'
	   FOR UPDATE SKIP LOCKED;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	gate := @extschema@.rollout_plan_gate(plan);
	UPDATE @extschema@.rollout_plan p
	   SET last_decision = gate.decision, reason = gate.reason, figures = gate.figures,
	       evaluated_at = now()
	 WHERE p.plan_id = plan.plan_id
	RETURNING * INTO plan;
	PERFORM @extschema@.rollout_plan_audit(plan, 'plan_decision', jsonb_build_object(
		'decision', gate.decision, 'reason', gate.reason, 'step', plan.step, 'figures', gate.figures));
	last_step := plan.step = cardinality(plan.steps);
	IF gate.decision = 'abort' THEN
		PERFORM @extschema@.rollout_plan_stop(plan.plan_id, gate.reason);
	ELSIF gate.decision = 'advance' AND last_step THEN
		UPDATE @extschema@.rollout_plan p SET state = 'completed', finished_at = now()
		 WHERE p.plan_id = plan.plan_id RETURNING * INTO plan;
		PERFORM @extschema@.rollout_plan_audit(plan, 'plan_complete', jsonb_build_object(
			'next', format('CALL rollout_phase_out(%L, %L)',
			               @extschema@.rollout_version_format(plan.base_version),
			               @extschema@.rollout_version_format(plan.target_version))));
	ELSIF gate.decision = 'advance' THEN
		UPDATE @extschema@.rollout_plan p SET step = p.step + 1, step_started_at = now()
		 WHERE p.plan_id = plan.plan_id RETURNING * INTO plan;
		PERFORM @extschema@.rollout_set_ramp(plan.base_version, plan.target_version,
		                                     plan.steps[plan.step]);
		PERFORM @extschema@.rollout_plan_snapshot(plan.plan_id, 'step');
	ELSIF gate.decision = 'inconclusive' AND now() - plan.step_started_at > 4 * plan.step_hold THEN
		-- As Argo Rollouts does with an inconclusive analysis: a person decides.
		UPDATE @extschema@.rollout_plan p
		   SET state = 'paused',
		       reason = format('inconclusive for more than 4 × step_hold (%s): %s', 4 * p.step_hold, p.reason)
		 WHERE p.plan_id = plan.plan_id RETURNING * INTO plan;
		PERFORM @extschema@.rollout_plan_audit(plan, 'plan_pause', jsonb_build_object('reason', plan.reason));
	END IF;
	RETURN gate.decision;
END
$$;
COMMENT ON FUNCTION rollout_plan_decide(bigint) IS
	'internal: one evaluation of a running plan by rollout_advance()';

-- Every running plan once, each in its own transaction, then the rollback
-- of aborted plans in committed batches (rollout_phase_out of the target
-- into the base). Nothing here holds a lock that claims or tagging wait for
-- beyond one batch. A plan aborted by this call is rolled back from the next
-- one: by then the load balancer has left the target (its ramp went to 0 at
-- once) and the target's servers have finished what they had accepted, where
-- a rollback in the same breath would retire the version under them.
CREATE PROCEDURE rollout_advance()
LANGUAGE plpgsql AS $$
DECLARE
	call_started CONSTANT timestamptz := clock_timestamp();
	p record;
	moved bigint;
	remaining bigint;
	version_state text;
	plan @extschema@.rollout_plan;
BEGIN
	PERFORM @extschema@.rollout_require_autocommit('rollout_advance');
	FOR p IN SELECT r.plan_id FROM @extschema@.rollout_plan r WHERE r.state = 'running'
	          ORDER BY r.plan_id LOOP
		PERFORM @extschema@.rollout_plan_decide(p.plan_id);
		COMMIT;
	END LOOP;
	FOR p IN SELECT r.plan_id, r.base_version, r.target_version FROM @extschema@.rollout_plan r
	          WHERE r.state = 'aborted' AND r.on_failure = 'rollback' AND r.aborted_at < call_started
	          ORDER BY r.plan_id LOOP
		moved := 0;
		remaining := 0;
		version_state := NULL;
		CALL @extschema@.rollout_phase_out(p.target_version, p.base_version, 1000, moved,
		                                   remaining, version_state);
		IF version_state = 'retired' THEN
			UPDATE @extschema@.rollout_plan r SET state = 'rolled_back', finished_at = now()
			 WHERE r.plan_id = p.plan_id AND r.state = 'aborted'
			RETURNING * INTO plan;
			IF FOUND THEN
				PERFORM @extschema@.rollout_plan_audit(plan, 'plan_rolled_back',
					jsonb_build_object('moved', moved));
			END IF;
		END IF;
		COMMIT;
	END LOOP;
END
$$;
COMMENT ON PROCEDURE rollout_advance() IS
	'evaluate every running plan once (advance, hold, pause or abort) and roll back aborted ones; run it from a scheduler';

CREATE FUNCTION rollout_plan_for_update(plan_id bigint, wanted_states text[], action text)
RETURNS rollout_plan LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	plan @extschema@.rollout_plan;
BEGIN
	IF plan_id IS NULL THEN
		RAISE EXCEPTION 'plan_id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO plan FROM @extschema@.rollout_plan p
	 WHERE p.plan_id = rollout_plan_for_update.plan_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'plan % does not exist', plan_id USING ERRCODE = 'undefined_object';
	END IF;
	IF plan.state <> ALL (wanted_states) THEN
		RAISE EXCEPTION 'cannot % plan %: it is %', action, plan_id, plan.state
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	RETURN plan;
END
$$;
COMMENT ON FUNCTION rollout_plan_for_update(bigint, text[], text) IS
	'internal: locks a plan in one of the states an action needs';

CREATE FUNCTION rollout_pause_plan(plan_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	plan @extschema@.rollout_plan;
BEGIN
	plan := @extschema@.rollout_plan_for_update(plan_id, '{running}', 'pause');
	UPDATE @extschema@.rollout_plan p SET state = 'paused'
	 WHERE p.plan_id = plan.plan_id RETURNING * INTO plan;
	PERFORM @extschema@.rollout_plan_audit(plan, 'plan_pause', '{"reason": "paused by hand"}');
END
$$;
COMMENT ON FUNCTION rollout_pause_plan(bigint) IS
	'stop a running plan where it is (the ramp stays) until rollout_resume_plan';

CREATE FUNCTION rollout_resume_plan(plan_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	plan @extschema@.rollout_plan;
BEGIN
	plan := @extschema@.rollout_plan_for_update(plan_id, '{paused}', 'resume');
	-- The step starts again: its window and its hold count from now.
	UPDATE @extschema@.rollout_plan p SET state = 'running', step_started_at = now()
	 WHERE p.plan_id = plan.plan_id RETURNING * INTO plan;
	PERFORM @extschema@.rollout_plan_snapshot(plan.plan_id, 'step');
	PERFORM @extschema@.rollout_set_ramp(plan.base_version, plan.target_version, plan.steps[plan.step]);
	PERFORM @extschema@.rollout_plan_audit(plan, 'plan_resume', '{}');
END
$$;
COMMENT ON FUNCTION rollout_resume_plan(bigint) IS
	'run a paused plan again; its current step starts over';

CREATE FUNCTION rollout_abort_plan(plan_id bigint, reason text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF reason IS NULL OR btrim(reason) = '' THEN
		RAISE EXCEPTION 'reason must be given' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'It is written to rollout_audit with the abort.';
	END IF;
	PERFORM @extschema@.rollout_plan_for_update(plan_id, '{running,paused}', 'abort');
	PERFORM @extschema@.rollout_plan_stop(plan_id, 'aborted by hand: ' || reason);
END
$$;
COMMENT ON FUNCTION rollout_abort_plan(bigint, text) IS
	'stop a plan: the ramp goes to 0, and with on_failure rollback rollout_advance() retags the target''s rows to the base';

CREATE VIEW rollout_plans AS
SELECT p.plan_id, p.base_version, p.target_version, p.state,
       CASE WHEN p.state IN ('aborted', 'rolled_back') THEN 0 ELSE p.steps[p.step] END AS percent,
       p.step, p.steps, p.step_started_at, p.last_decision, p.reason,
       (p.figures->'totals'->>'base_finished')::bigint AS base_finished,
       (p.figures->'totals'->>'base_failed')::bigint AS base_failed,
       round((p.figures->'totals'->>'base_failed')::numeric
             / nullif((p.figures->'totals'->>'base_finished')::numeric, 0), 4) AS base_failure_rate,
       (p.figures->'totals'->>'base_work_p95')::interval AS base_work_p95,
       (p.figures->'totals'->>'target_finished')::bigint AS target_finished,
       (p.figures->'totals'->>'target_failed')::bigint AS target_failed,
       round((p.figures->'totals'->>'target_failed')::numeric
             / nullif((p.figures->'totals'->>'target_finished')::numeric, 0), 4) AS target_failure_rate,
       (p.figures->'totals'->>'target_work_p95')::interval AS target_work_p95,
       (p.figures->'totals'->>'p_value')::double precision AS p_value,
       p.evaluated_at, p.started_at, p.finished_at
  FROM rollout_plan p;
COMMENT ON VIEW rollout_plans IS
	'progressive rollouts: state, current step, the last decision and the gate figures it was made on';
