-- rollout_ext 0.2.0 -> 0.3.0: what real clients needed.
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

CREATE OR REPLACE FUNCTION rollout_retry_rows(criteria_id text, key text, claim_token uuid, delay interval)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF delay IS NULL OR delay < interval '0' THEN
		RAISE EXCEPTION 'delay must be zero or positive, not %', coalesce(delay::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN @extschema@.rollout_complete_rows(criteria_id, key, claim_token, statement_timestamp() + delay);
END
$$;

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
