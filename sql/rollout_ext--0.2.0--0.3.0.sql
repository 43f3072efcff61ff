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

