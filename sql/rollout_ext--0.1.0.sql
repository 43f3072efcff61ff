-- rollout_ext 0.1.0, the base script: CREATE EXTENSION runs it, then every
-- update script in turn (0.1.0--0.2.0, 0.2.0--0.3.0), as contrib's modules do.
-- The type, the settings' functions, tagging, the registry, routing, the task
-- queue and claims, retagging and phase-out, the backlog, and guards.
--
-- Objects a later script replaces or changes, so that their current body is
-- found there:
--   0.1.0--0.2.0: rollout_enable_tagging, rollout_disable_tagging (and the new
--                 rollout_set_tagging_default); rollout_task_q's version
--                 column default.
--   0.2.0--0.3.0: the casts to rollout_version (implicit, and from text and
--                 varchar); rollout_retry_rows; rollout_retag;
--                 rollout_phase_out_begin; rollout_set_ramp (and its scheme
--                 form); rollout_route_bucket (STABLE, and its scheme form);
--                 rollout_ramp.scheme; rollout_lb_config and
--                 rollout_require_autocommit (new); rollout_complete_rows
--                 (through the new rollout_end_claim_rows); rollout_stats,
--                 its functions and rollout_histogram_quantile (new);
--                 rollout_define_criteria (max_attempts), rollout_criteria
--                 and rollout_task_q (new columns), rollout_backlog_rows and
--                 rollout_backlog (parked), rollout_retry_rows again, and
--                 rollout_phase_out_finish (waits for every writer); the
--                 progressive rollout (rollout_start_plan, rollout_advance,
--                 rollout_plans and their helpers, all new).

\echo Use "CREATE EXTENSION rollout_ext" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Type
-- ---------------------------------------------------------------------------

CREATE TYPE rollout_version;

CREATE FUNCTION rollout_version_in(cstring) RETURNS rollout_version
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rollout_version_out(rollout_version) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rollout_version_recv(internal) RETURNS rollout_version
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rollout_version_send(rollout_version) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE rollout_version (
	INPUT = rollout_version_in,
	OUTPUT = rollout_version_out,
	RECEIVE = rollout_version_recv,
	SEND = rollout_version_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE rollout_version IS
	'rollout version of the server that owns a row: a non-negative 64-bit integer, '
	'input as digits (1010111213) or dotted (10.1.0.11.12.13)';

CREATE FUNCTION rollout_version_format(rollout_version) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rollout_version_format(rollout_version) IS
	'six-part dotted form MAJOR.R.M.FP.EXT.IMPL of a rollout version';

-- Casts. Both directions are assignment casts: storing a bigint into a
-- rollout_version column works, but no comparison silently turns into
-- integer arithmetic.
CREATE FUNCTION rollout_version(bigint) RETURNS rollout_version
	AS 'MODULE_PATHNAME', 'rollout_version_from_bigint' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rollout_version(integer) RETURNS rollout_version
	AS 'MODULE_PATHNAME', 'rollout_version_from_integer' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (bigint AS rollout_version) WITH FUNCTION rollout_version(bigint) AS ASSIGNMENT;
CREATE CAST (integer AS rollout_version) WITH FUNCTION rollout_version(integer) AS ASSIGNMENT;
CREATE CAST (rollout_version AS bigint) WITHOUT FUNCTION AS ASSIGNMENT;

-- Comparison
CREATE FUNCTION rollout_version_cmp(rollout_version, rollout_version) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_eq(rollout_version, rollout_version) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_ne(rollout_version, rollout_version) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_lt(rollout_version, rollout_version) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_le(rollout_version, rollout_version) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_gt(rollout_version, rollout_version) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_ge(rollout_version, rollout_version) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_hash(rollout_version) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION rollout_version_hash_extended(rollout_version, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR = (
	LEFTARG = rollout_version, RIGHTARG = rollout_version, PROCEDURE = rollout_version_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
	LEFTARG = rollout_version, RIGHTARG = rollout_version, PROCEDURE = rollout_version_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR < (
	LEFTARG = rollout_version, RIGHTARG = rollout_version, PROCEDURE = rollout_version_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
	LEFTARG = rollout_version, RIGHTARG = rollout_version, PROCEDURE = rollout_version_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR > (
	LEFTARG = rollout_version, RIGHTARG = rollout_version, PROCEDURE = rollout_version_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR >= (
	LEFTARG = rollout_version, RIGHTARG = rollout_version, PROCEDURE = rollout_version_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS rollout_version_ops
	DEFAULT FOR TYPE rollout_version USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 rollout_version_cmp(rollout_version, rollout_version);

CREATE OPERATOR CLASS rollout_version_hash_ops
	DEFAULT FOR TYPE rollout_version USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 rollout_version_hash(rollout_version),
	FUNCTION 2 rollout_version_hash_extended(rollout_version, bigint);

CREATE FUNCTION rollout_version_smaller(rollout_version, rollout_version) RETURNS rollout_version
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION rollout_version_larger(rollout_version, rollout_version) RETURNS rollout_version
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE min(rollout_version) (
	SFUNC = rollout_version_smaller, STYPE = rollout_version, SORTOP = <,
	COMBINEFUNC = rollout_version_smaller, PARALLEL = SAFE
);
CREATE AGGREGATE max(rollout_version) (
	SFUNC = rollout_version_larger, STYPE = rollout_version, SORTOP = >,
	COMBINEFUNC = rollout_version_larger, PARALLEL = SAFE
);

-- ---------------------------------------------------------------------------
-- Setting
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_current_version() RETURNS rollout_version
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION rollout_current_version() IS
	'the version in rollout.version, or NULL when it is empty';

-- ---------------------------------------------------------------------------
-- Configuration changes
-- ---------------------------------------------------------------------------

-- Backends cache the configuration tables (criteria, versions, ramp); a
-- change to any of them tells every backend to drop its copy at commit.
CREATE FUNCTION rollout_config_changed() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;

-- ---------------------------------------------------------------------------
-- Tagging
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_tag_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION rollout_tag_trigger() IS
	'BEFORE INSERT row trigger that tags new rows; install it with rollout_enable_tagging()';

-- How each table is tagged. The trigger reads its configuration here rather
-- than from trigger arguments, because pg_dump keeps this table's rows but not
-- triggers on the extension's own rollout_task_q. A table with the trigger
-- and no row here uses the defaults: column rollout_version, if_unset error.
CREATE TABLE rollout_tagging (
	tbl regclass PRIMARY KEY,
	column_name name NOT NULL,
	if_unset text NOT NULL CHECK (if_unset IN ('error', 'null')),
	inherit_from regclass,
	inherit_on name[],
	parent_columns name[],
	route_by name,
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((inherit_from IS NULL) = (inherit_on IS NULL)),
	CHECK (cardinality(inherit_on) = cardinality(parent_columns))
);
COMMENT ON TABLE rollout_tagging IS 'tagging configuration written by rollout_enable_tagging()';
SELECT pg_catalog.pg_extension_config_dump('rollout_tagging', '');
CREATE TRIGGER rollout_config_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rollout_tagging
	FOR EACH STATEMENT EXECUTE FUNCTION rollout_config_changed();

CREATE FUNCTION rollout_enable_tagging(
	tbl regclass,
	column_name name DEFAULT 'rollout_version',
	if_unset text DEFAULT 'error',
	inherit_from regclass DEFAULT NULL,
	inherit_on name[] DEFAULT NULL,
	parent_columns name[] DEFAULT NULL,
	route_by name DEFAULT NULL
) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	version_type CONSTANT regtype := '@extschema@.rollout_version'::regtype;
	existing_type regtype;
BEGIN
	IF tbl IS NULL OR column_name IS NULL OR if_unset IS NULL THEN
		RAISE EXCEPTION 'tbl, column_name and if_unset must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF if_unset NOT IN ('error', 'null') THEN
		RAISE EXCEPTION 'invalid if_unset value "%"', if_unset
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Use ''error'' to refuse untagged rows or ''null'' to leave them untagged.';
	END IF;
	IF (SELECT relkind FROM pg_class WHERE oid = tbl) NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '"%" is not a table', tbl
			USING ERRCODE = 'wrong_object_type';
	END IF;

	SELECT atttypid INTO existing_type FROM pg_attribute
	 WHERE attrelid = tbl AND attname = column_name AND attnum > 0 AND NOT attisdropped;
	IF NOT FOUND THEN
		EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', tbl, column_name, version_type);
	ELSIF existing_type <> version_type THEN
		RAISE EXCEPTION 'column "%" of relation "%" has type %, not rollout_version',
			column_name, tbl, existing_type
			USING ERRCODE = 'datatype_mismatch',
			      HINT = 'Choose another column_name, or convert the column with ALTER TABLE ... ALTER COLUMN ... TYPE rollout_version.';
	END IF;

	IF (inherit_from IS NULL) <> (inherit_on IS NULL) OR cardinality(inherit_on) = 0 THEN
		RAISE EXCEPTION 'inherit_from and inherit_on must be given together'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'inherit_on names the columns of tbl that identify the parent row.';
	END IF;
	IF inherit_from IS NOT NULL THEN
		parent_columns := coalesce(parent_columns, inherit_on);
		IF cardinality(parent_columns) <> cardinality(inherit_on) THEN
			RAISE EXCEPTION 'parent_columns must name as many columns as inherit_on'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		PERFORM @extschema@.rollout_check_columns(tbl, inherit_on);
		PERFORM @extschema@.rollout_check_columns(inherit_from, parent_columns || column_name);
		IF (SELECT atttypid FROM pg_attribute
		     WHERE attrelid = inherit_from AND attname = column_name) <> version_type THEN
			RAISE EXCEPTION 'column "%" of relation "%" is not of type rollout_version',
				column_name, inherit_from
				USING ERRCODE = 'datatype_mismatch';
		END IF;
	ELSE
		parent_columns := NULL;
	END IF;
	IF route_by IS NOT NULL THEN
		PERFORM @extschema@.rollout_check_columns(tbl, ARRAY[route_by]);
	END IF;

	INSERT INTO @extschema@.rollout_tagging AS t
		(tbl, column_name, if_unset, inherit_from, inherit_on, parent_columns, route_by)
	VALUES (tbl, column_name, if_unset, inherit_from, inherit_on, parent_columns, route_by)
	ON CONFLICT ON CONSTRAINT rollout_tagging_pkey DO UPDATE SET
		column_name = excluded.column_name, if_unset = excluded.if_unset,
		inherit_from = excluded.inherit_from, inherit_on = excluded.inherit_on,
		parent_columns = excluded.parent_columns, route_by = excluded.route_by,
		updated_at = now();
	EXECUTE format(
		'CREATE OR REPLACE TRIGGER rollout_tag BEFORE INSERT ON %s FOR EACH ROW '
		'EXECUTE FUNCTION @extschema@.rollout_tag_trigger()', tbl);
END
$$;
COMMENT ON FUNCTION rollout_enable_tagging(regclass, name, text, regclass, name[], name[], name) IS
	'install (or reconfigure) the rollout_tag trigger that tags new rows of tbl';

-- Raises undefined_column for the first of columns that tbl lacks.
CREATE FUNCTION rollout_check_columns(tbl regclass, columns name[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	missing name;
BEGIN
	SELECT c INTO missing FROM unnest(columns) c
	 WHERE NOT EXISTS (SELECT FROM pg_attribute
	                    WHERE attrelid = tbl AND attname = c AND attnum > 0 AND NOT attisdropped)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', missing, tbl
			USING ERRCODE = 'undefined_column';
	END IF;
END
$$;

CREATE FUNCTION rollout_disable_tagging(tbl regclass) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'tbl must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	DELETE FROM @extschema@.rollout_tagging t WHERE t.tbl = rollout_disable_tagging.tbl;
	IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'rollout_tag') THEN
		RAISE NOTICE 'tagging is not enabled on "%", skipping', tbl;
		RETURN;
	END IF;
	EXECUTE format('DROP TRIGGER rollout_tag ON %s', tbl);
END
$$;
COMMENT ON FUNCTION rollout_disable_tagging(regclass) IS
	'remove the rollout_tag trigger from tbl; the column and its data stay';

-- Forget the configuration of dropped tables. SECURITY DEFINER because the
-- role dropping a table need not be allowed to write the configuration;
-- search_path is pinned so no object of the caller's can stand in.
CREATE FUNCTION rollout_forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM @extschema@.rollout_tagging t
	 USING pg_catalog.pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
	   AND d.objid = t.tbl::pg_catalog.oid;
	DELETE FROM @extschema@.rollout_criteria c
	 USING pg_catalog.pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
	   AND d.objid = c.queue_table::pg_catalog.oid;
END
$$;
REVOKE ALL ON FUNCTION rollout_forget_dropped_tables() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Version registry and audit
-- ---------------------------------------------------------------------------

CREATE TABLE rollout_audit (
	audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	happened_at timestamptz NOT NULL DEFAULT now(),
	actor name NOT NULL DEFAULT session_user,
	action text NOT NULL,
	version rollout_version,
	detail jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE rollout_audit IS
	'who changed the rollout, and when: version states, ramps, retagging, guard bypasses';
SELECT pg_catalog.pg_extension_config_dump('rollout_audit', '');
SELECT pg_catalog.pg_extension_config_dump('rollout_audit_audit_id_seq', '');

CREATE TABLE rollout_versions (
	version rollout_version PRIMARY KEY,
	label text,
	state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'draining', 'retired')),
	registered_at timestamptz NOT NULL DEFAULT now(),
	state_changed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rollout_versions IS
	'registered rollout versions and their lifecycle: active, draining, retired';
SELECT pg_catalog.pg_extension_config_dump('rollout_versions', '');
CREATE TRIGGER rollout_config_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rollout_versions
	FOR EACH STATEMENT EXECUTE FUNCTION rollout_config_changed();

CREATE FUNCTION rollout_register_version(version rollout_version, label text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF version IS NULL THEN
		RAISE EXCEPTION 'version must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	INSERT INTO @extschema@.rollout_versions AS v (version, label)
	VALUES (rollout_register_version.version, rollout_register_version.label)
	ON CONFLICT ON CONSTRAINT rollout_versions_pkey
	DO UPDATE SET label = coalesce(excluded.label, v.label);
	INSERT INTO @extschema@.rollout_audit (action, version, detail)
	VALUES ('register', version, jsonb_build_object('label', label));
END
$$;
COMMENT ON FUNCTION rollout_register_version(rollout_version, text) IS
	'register a version (state active), or relabel a registered one';

CREATE FUNCTION rollout_set_version_state(version rollout_version, state text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	old_state text;
BEGIN
	IF version IS NULL OR state IS NULL THEN
		RAISE EXCEPTION 'version and state must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF state NOT IN ('active', 'draining', 'retired') THEN
		RAISE EXCEPTION 'invalid version state "%"', state
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'The states are active, draining and retired.';
	END IF;
	SELECT v.state INTO old_state FROM @extschema@.rollout_versions v
	 WHERE v.version = rollout_set_version_state.version FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'rollout version % is not registered', version
			USING ERRCODE = 'undefined_object',
			      HINT = 'Register it with rollout_register_version().';
	END IF;
	IF old_state = state THEN
		RETURN;
	END IF;
	UPDATE @extschema@.rollout_versions v
	   SET state = rollout_set_version_state.state, state_changed_at = now()
	 WHERE v.version = rollout_set_version_state.version;
	INSERT INTO @extschema@.rollout_audit (action, version, detail)
	VALUES ('set_state', version, jsonb_build_object('from', old_state, 'to', state));
END
$$;
COMMENT ON FUNCTION rollout_set_version_state(rollout_version, text) IS
	'move a registered version to active, draining or retired (audited)';

-- ---------------------------------------------------------------------------
-- Routing
-- ---------------------------------------------------------------------------

CREATE TABLE rollout_ramp (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	base_version rollout_version NOT NULL,
	target_version rollout_version NOT NULL,
	percent numeric(5, 2) NOT NULL CHECK (percent BETWEEN 0 AND 100),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rollout_ramp IS
	'the load balancer''s split: the share of new keys routed to target_version';
SELECT pg_catalog.pg_extension_config_dump('rollout_ramp', '');
CREATE TRIGGER rollout_config_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rollout_ramp
	FOR EACH STATEMENT EXECUTE FUNCTION rollout_config_changed();

CREATE FUNCTION rollout_set_ramp(base rollout_version, target rollout_version, percent numeric)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	previous @extschema@.rollout_ramp;
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
	SELECT * INTO previous FROM @extschema@.rollout_ramp;
	INSERT INTO @extschema@.rollout_ramp AS r (base_version, target_version, percent)
	VALUES (base, target, percent)
	ON CONFLICT ON CONSTRAINT rollout_ramp_pkey DO UPDATE SET
		base_version = excluded.base_version, target_version = excluded.target_version,
		percent = excluded.percent, updated_at = now();
	INSERT INTO @extschema@.rollout_audit (action, version, detail)
	VALUES ('set_ramp', target, jsonb_build_object(
		'base', base::bigint, 'target', target::bigint, 'percent', percent,
		'previous_percent', previous.percent));
END
$$;
COMMENT ON FUNCTION rollout_set_ramp(rollout_version, rollout_version, numeric) IS
	'route percent (0.01 precision) of new keys to target, the rest to base (audited)';

CREATE FUNCTION rollout_route(routing_key text) RETURNS rollout_version
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION rollout_route(text) IS
	'the version that owns a new key under the current ramp: target when its bucket is below percent * 100';

CREATE FUNCTION rollout_route_bucket(routing_key text) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION rollout_route_bucket(text) IS
	'the key''s routing bucket, 0 to 9999: MurmurHash3 x86_32 (seed 0) of its UTF-8 bytes, modulo 10000';

-- ---------------------------------------------------------------------------
-- Task queue
-- ---------------------------------------------------------------------------

CREATE TABLE rollout_task_q (
	task_q_key bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	transaction_id text NOT NULL,
	data_key text,
	data_type text,
	available_date timestamptz NOT NULL DEFAULT now(),
	rollout_version rollout_version,
	hold_flag boolean NOT NULL DEFAULT false,
	filter_criteria text,
	claim_token uuid,
	claim_count integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rollout_task_q IS
	'task queue shaped like the reference system''s; claim with rollout_claim()';
COMMENT ON COLUMN rollout_task_q.available_date IS
	'when the task is due; a claim moves it to the end of the lease';
COMMENT ON COLUMN rollout_task_q.claim_token IS
	'token of the latest claim; rollout_complete and rollout_retry must present it';

-- The claim path of a multi-version criteria: one ordered index range per
-- (transaction, version), so a version's claimers never walk other versions'
-- rows. The second index serves criteria that ignore versions or take every
-- version up to their own (base_version).
CREATE INDEX rollout_task_q_version_due ON rollout_task_q
	(transaction_id, rollout_version, available_date, task_q_key) WHERE NOT hold_flag;
CREATE INDEX rollout_task_q_due ON rollout_task_q
	(transaction_id, available_date, task_q_key) WHERE NOT hold_flag;

-- Tagged with the defaults; rollout_enable_tagging() can reconfigure it.
CREATE TRIGGER rollout_tag BEFORE INSERT ON rollout_task_q
	FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger();
SELECT pg_catalog.pg_extension_config_dump('rollout_task_q', '');
SELECT pg_catalog.pg_extension_config_dump('rollout_task_q_task_q_key_seq', '');

-- ---------------------------------------------------------------------------
-- Agent criteria
-- ---------------------------------------------------------------------------

CREATE TABLE rollout_criteria (
	criteria_id text PRIMARY KEY CHECK (length(criteria_id) BETWEEN 1 AND 200),
	transaction_id text NOT NULL CHECK (length(transaction_id) BETWEEN 1 AND 200),
	queue_table regclass NOT NULL,
	key_column name NOT NULL,
	due_column name NOT NULL,
	version_column name NOT NULL,
	transaction_column name,
	hold_column name,
	token_column name NOT NULL,
	count_column name,
	multi_version boolean NOT NULL,
	base_version boolean NOT NULL,
	batch_size integer NOT NULL CHECK (batch_size > 0),
	lease interval NOT NULL CHECK (lease > interval '0'),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rollout_criteria IS
	'agent criteria registered with rollout_define_criteria(); read by rollout_claim()';
SELECT pg_catalog.pg_extension_config_dump('rollout_criteria', '');

CREATE TRIGGER rollout_config_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rollout_criteria
	FOR EACH STATEMENT EXECUTE FUNCTION rollout_config_changed();

-- Raises datatype_mismatch unless tbl.col has the expected type.
CREATE FUNCTION rollout_check_column_type(tbl regclass, col name, expected regtype)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	actual regtype;
BEGIN
	SELECT atttypid INTO actual FROM pg_attribute
	 WHERE attrelid = tbl AND attname = col AND attnum > 0 AND NOT attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', col, tbl
			USING ERRCODE = 'undefined_column';
	END IF;
	IF actual <> expected THEN
		RAISE EXCEPTION 'column "%" of relation "%" has type %, not %', col, tbl, actual, expected
			USING ERRCODE = 'datatype_mismatch';
	END IF;
END
$$;

-- Every argument left NULL keeps the criteria's current value when it is
-- redefined, or takes the default shown in the README when it is new.
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
	token_column name DEFAULT NULL
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
		 base_version, batch_size, lease)
	VALUES (criteria_id, transaction_id, queue_table, key_column, due_column, version_column,
	        transaction_column, hold_column, token_column, count_column, multi_version,
	        base_version, batch_size, lease)
	ON CONFLICT ON CONSTRAINT rollout_criteria_pkey DO UPDATE SET
		transaction_id = excluded.transaction_id, queue_table = excluded.queue_table,
		key_column = excluded.key_column, due_column = excluded.due_column,
		version_column = excluded.version_column,
		transaction_column = excluded.transaction_column, hold_column = excluded.hold_column,
		token_column = excluded.token_column, count_column = excluded.count_column,
		multi_version = excluded.multi_version, base_version = excluded.base_version,
		batch_size = excluded.batch_size, lease = excluded.lease, updated_at = now();
END
$$;
COMMENT ON FUNCTION rollout_define_criteria(text, text, regclass, name, name, name, name, name, boolean, boolean, integer, interval, name) IS
	'register or update an agent criteria (the reference system''s EnableMultiVersionSupport and IsBaseVersion)';

CREATE FUNCTION rollout_drop_criteria(criteria_id text, if_exists boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	DELETE FROM @extschema@.rollout_criteria c WHERE c.criteria_id = rollout_drop_criteria.criteria_id;
	IF NOT FOUND AND NOT coalesce(if_exists, false) THEN
		RAISE EXCEPTION 'criteria "%" does not exist', criteria_id USING ERRCODE = 'undefined_object';
	END IF;
END
$$;
COMMENT ON FUNCTION rollout_drop_criteria(text, boolean) IS 'remove an agent criteria';

-- ---------------------------------------------------------------------------
-- Claims
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_claim(criteria_id text, max_rows integer DEFAULT NULL,
                              as_version rollout_version DEFAULT NULL)
RETURNS SETOF rollout_task_q
	AS 'MODULE_PATHNAME', 'rollout_claim' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_claim(text, integer, rollout_version) IS
	'atomically claim up to max_rows due task-queue rows of the caller''s version for a criteria';

CREATE FUNCTION rollout_claim_rows(criteria_id text, row_type anyelement,
                                   max_rows integer DEFAULT NULL,
                                   as_version rollout_version DEFAULT NULL)
RETURNS SETOF anyelement
	AS 'MODULE_PATHNAME', 'rollout_claim_rows' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_claim_rows(text, anyelement, integer, rollout_version) IS
	'claim rows of any registered table: rollout_claim_rows(''CRITERIA'', NULL::my_table, n)';

-- C, with one kept plan each: they run once per task on every agent's hot
-- path. The statements qualify every object and operator they use.
CREATE FUNCTION rollout_complete(task_q_key bigint, claim_token uuid)
RETURNS boolean AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_complete(bigint, uuid) IS
	'delete a finished task; false (and no change) when the claim token is no longer current';

CREATE FUNCTION rollout_retry(task_q_key bigint, claim_token uuid, delay interval)
RETURNS boolean AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_retry(bigint, uuid, interval) IS
	'hand a task back, due again after delay; false (and no change) when the claim token is no longer current';

-- Generic completion: on a driver table the agent changed the row itself, so
-- completing only ends the claim, and the row is due again at next_due, or
-- never (NULL).
CREATE FUNCTION rollout_complete_rows(criteria_id text, key text, claim_token uuid,
                                      next_due timestamptz DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	c @extschema@.rollout_criteria;
	changed bigint;
BEGIN
	SELECT * INTO c FROM @extschema@.rollout_criteria r WHERE r.criteria_id = rollout_complete_rows.criteria_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'criteria "%" does not exist', criteria_id USING ERRCODE = 'undefined_object';
	END IF;
	-- Finished task-queue rows are deleted, as rollout_complete does.
	IF c.queue_table = '@extschema@.rollout_task_q'::regclass AND next_due IS NULL THEN
		RETURN @extschema@.rollout_complete(key::bigint, claim_token);
	END IF;
	EXECUTE format('UPDATE %s SET %I = $3, %I = NULL WHERE %I = CAST($1 AS %s) AND %I = $2',
	               c.queue_table, c.due_column, c.token_column, c.key_column,
	               (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	                 WHERE attrelid = c.queue_table AND attname = c.key_column),
	               c.token_column)
		USING key, claim_token, next_due;
	GET DIAGNOSTICS changed = ROW_COUNT;
	RETURN changed > 0;
END
$$;
COMMENT ON FUNCTION rollout_complete_rows(text, text, uuid, timestamptz) IS
	'end a claim on a registered table; the row is due again at next_due (NULL: never)';

CREATE FUNCTION rollout_retry_rows(criteria_id text, key text, claim_token uuid, delay interval)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF delay IS NULL OR delay < interval '0' THEN
		RAISE EXCEPTION 'delay must be zero or positive, not %', coalesce(delay::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN @extschema@.rollout_complete_rows(criteria_id, key, claim_token, now() + delay);
END
$$;
COMMENT ON FUNCTION rollout_retry_rows(text, text, uuid, interval) IS
	'hand a claimed row of a registered table back, due again after delay';

-- ---------------------------------------------------------------------------
-- Retagging: promotion, phase-out, rollback
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_retag_batch(tbl regclass, column_name name,
                                    from_version rollout_version, to_version rollout_version,
                                    batch_size integer, lease_token_columns name[] DEFAULT NULL,
                                    lease_due_columns name[] DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION rollout_retag_batch(regclass, name, rollout_version, rollout_version, integer, name[], name[]) IS
	'move one batch of unlocked, unleased rows between versions; rollout_retag loops over it';

-- The version column of a tagged table: the one configured in
-- rollout_tagging, else rollout_version.
CREATE FUNCTION rollout_version_column(tbl regclass) RETURNS name
LANGUAGE sql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	SELECT coalesce(
		(SELECT t.column_name FROM @extschema@.rollout_tagging t WHERE t.tbl = rollout_version_column.tbl),
		'rollout_version'::name)
$$;

-- Tables whose rows carry versions: those with a tagging trigger (not
-- partitions, whose parent is listed) and the queue tables of criteria.
CREATE VIEW rollout_tagged_tables AS
SELECT t.tgrelid::regclass AS tbl, @extschema@.rollout_version_column(t.tgrelid) AS column_name
  FROM pg_trigger t
 WHERE t.tgname = 'rollout_tag' AND t.tgparentid = 0
UNION
SELECT c.queue_table, c.version_column FROM @extschema@.rollout_criteria c WHERE c.multi_version;
COMMENT ON VIEW rollout_tagged_tables IS 'tables whose rows are tagged with rollout versions';

-- The procedures below COMMIT between batches, so they cannot pin
-- search_path themselves; all their work is done by these pinned functions,
-- and the procedures only loop, qualifying every operator they use.

-- Checks a retag's arguments and returns the table's version column and the
-- lease columns of every criteria on it.
CREATE FUNCTION rollout_retag_plan(tbl regclass, from_version rollout_version,
                                   to_version rollout_version, batch_size integer,
                                   OUT version_column name, OUT token_columns name[],
                                   OUT due_columns name[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF tbl IS NULL OR from_version IS NULL OR to_version IS NULL OR batch_size IS NULL THEN
		RAISE EXCEPTION 'tbl, from_version, to_version and batch_size must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF batch_size <= 0 THEN
		RAISE EXCEPTION 'batch_size must be positive, not %', batch_size
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT FROM @extschema@.rollout_versions v
	            WHERE v.version = to_version AND v.state = 'retired') THEN
		RAISE EXCEPTION 'rollout version % is retired', to_version
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'Cannot retag rows to a retired version.';
	END IF;
	version_column := @extschema@.rollout_version_column(tbl);
	-- Rows of a queue are leased while a criteria's claim token is set and its
	-- due column lies ahead; retagging leaves them to their claimer.
	SELECT array_agg(c.token_column ORDER BY c.token_column, c.due_column),
	       array_agg(c.due_column ORDER BY c.token_column, c.due_column)
	  INTO token_columns, due_columns
	  FROM (SELECT DISTINCT c.token_column, c.due_column
	          FROM @extschema@.rollout_criteria c WHERE c.queue_table = tbl) c;
END
$$;
COMMENT ON FUNCTION rollout_retag_plan(regclass, rollout_version, rollout_version, integer) IS
	'internal: the checks and columns of a rollout_retag';

-- Counts the rows a retag left behind (locked or leased) and audits it.
CREATE FUNCTION rollout_retag_finish(tbl regclass, version_column name,
                                     from_version rollout_version, to_version rollout_version,
                                     moved bigint)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	skipped bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s WHERE %I = $1', tbl, version_column)
		INTO skipped USING from_version;
	INSERT INTO @extschema@.rollout_audit (action, version, detail)
	VALUES ('retag', to_version, jsonb_build_object(
		'table', tbl::text, 'from', from_version::bigint, 'to', to_version::bigint,
		'moved', moved, 'skipped', skipped));
	RETURN skipped;
END
$$;
COMMENT ON FUNCTION rollout_retag_finish(regclass, name, rollout_version, rollout_version, bigint) IS
	'internal: counts and audits the end of a rollout_retag';

CREATE PROCEDURE rollout_retag(tbl regclass, from_version rollout_version,
                               to_version rollout_version, batch_size integer DEFAULT 1000,
                               INOUT moved bigint DEFAULT 0, INOUT skipped bigint DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
	plan record;
	batch_moved bigint;
BEGIN
	SELECT * INTO plan FROM @extschema@.rollout_retag_plan(tbl, from_version, to_version, batch_size);
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
COMMENT ON PROCEDURE rollout_retag(regclass, rollout_version, rollout_version, integer, bigint, bigint) IS
	'move rows of tbl from one version to another in committed batches, skipping claimed rows (audited)';

-- Starts a phase-out: registers old_version if needed and marks it draining.
CREATE FUNCTION rollout_phase_out_begin(old_version rollout_version, new_version rollout_version)
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
	PERFORM @extschema@.rollout_register_version(old_version)
	  WHERE NOT EXISTS (SELECT FROM @extschema@.rollout_versions v WHERE v.version = old_version);
	PERFORM @extschema@.rollout_set_version_state(old_version, 'draining')
	  WHERE (SELECT v.state FROM @extschema@.rollout_versions v WHERE v.version = old_version) = 'active';
END
$$;
COMMENT ON FUNCTION rollout_phase_out_begin(rollout_version, rollout_version) IS
	'internal: the first step of rollout_phase_out';

-- Parents before children: a child row inserted while its parent is being
-- retagged then inherits the new version rather than the draining one.
CREATE FUNCTION rollout_phase_out_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
	WITH RECURSIVE depth (tbl, depth) AS (
		SELECT t.tbl, 0 FROM @extschema@.rollout_tagging t WHERE t.inherit_from IS NULL
		UNION ALL
		SELECT t.tbl, d.depth + 1
		  FROM @extschema@.rollout_tagging t JOIN depth d ON t.inherit_from = d.tbl
		 WHERE d.depth < 32
	)
	SELECT tt.tbl
	  FROM @extschema@.rollout_tagged_tables tt
	  LEFT JOIN (SELECT tbl, max(depth) AS depth FROM depth GROUP BY tbl) d ON d.tbl = tt.tbl
	 ORDER BY coalesce(d.depth, 0), tt.tbl::text
$$;
COMMENT ON FUNCTION rollout_phase_out_tables() IS 'internal: the tables rollout_phase_out drains';

-- Ends a phase-out pass: retires old_version when nothing of it is left in
-- any tagged table. Counted again here, in the transaction that retires, so a
-- row committed during the pass is not missed.
CREATE FUNCTION rollout_phase_out_finish(old_version rollout_version, INOUT remaining bigint,
                                         OUT state text)
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	t record;
	n bigint;
BEGIN
	-- Writers of a draining version hold a share lock on its row until they
	-- commit; taking this lock first makes the count below see their rows.
	PERFORM FROM @extschema@.rollout_versions v WHERE v.version = old_version FOR UPDATE;
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
COMMENT ON FUNCTION rollout_phase_out_finish(rollout_version, bigint) IS
	'internal: the last step of rollout_phase_out';

CREATE PROCEDURE rollout_phase_out(old_version rollout_version, new_version rollout_version,
                                   batch_size integer DEFAULT 1000,
                                   INOUT moved bigint DEFAULT 0, INOUT remaining bigint DEFAULT 0,
                                   INOUT state text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	table_moved bigint;
	table_skipped bigint;
BEGIN
	PERFORM @extschema@.rollout_phase_out_begin(old_version, new_version);
	COMMIT;
	moved := 0;
	remaining := 0;
	FOR t IN SELECT tbl FROM @extschema@.rollout_phase_out_tables() AS tbl LOOP
		table_moved := 0;
		table_skipped := 0;
		CALL @extschema@.rollout_retag(t.tbl, old_version, new_version, batch_size,
		                               table_moved, table_skipped);
		moved := moved OPERATOR(pg_catalog.+) table_moved;
		remaining := remaining OPERATOR(pg_catalog.+) table_skipped;
	END LOOP;
	SELECT f.remaining, f.state INTO remaining, state
	  FROM @extschema@.rollout_phase_out_finish(old_version, remaining) f;
	COMMIT;
END
$$;
COMMENT ON PROCEDURE rollout_phase_out(rollout_version, rollout_version, integer, bigint, bigint, text) IS
	'drain old_version into new_version across every tagged table; retires it once nothing is left';

-- ---------------------------------------------------------------------------
-- Backlog and drain status
-- ---------------------------------------------------------------------------

-- One pass per queue table, grouped by transaction and version, then matched
-- to the criteria that read it.
CREATE FUNCTION rollout_backlog_rows()
RETURNS TABLE (criteria_id text, transaction_id text, queue_table regclass,
               version rollout_version, ready bigint, claimed bigint, scheduled bigint,
               held bigint, oldest_ready_age interval)
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
			          count(*) FILTER (WHERE %3$s) AS held,
			          now() - min(%4$I) FILTER (WHERE NOT %3$s AND %4$I <= now()) AS oldest
			     FROM %6$s
			    WHERE %4$I IS NOT NULL %7$s
			    GROUP BY 1, 2)
			 SELECT c.criteria_id, c.transaction_id, c.queue_table, n.version,
			        n.ready, n.claimed, n.scheduled, n.held, n.oldest
			   FROM @extschema@.rollout_criteria c
			   JOIN counts n ON n.txn IS NOT DISTINCT FROM %8$s
			  WHERE c.criteria_id = ANY ($3)',
			CASE WHEN q.transaction_column IS NULL THEN 'NULL::text' ELSE quote_ident(q.transaction_column) END,
			CASE WHEN q.versioned THEN quote_ident(q.version_column) ELSE 'NULL::@extschema@.rollout_version' END,
			CASE WHEN q.hold_column IS NULL THEN 'false' ELSE format('coalesce(%I, false)', q.hold_column) END,
			q.due_column, q.token_column, q.queue_table,
			CASE WHEN q.transaction_column IS NULL THEN ''
			     ELSE format('AND %I = ANY ($2)', q.transaction_column) END,
			CASE WHEN q.transaction_column IS NULL THEN 'NULL::text' ELSE 'c.transaction_id' END)
		USING q.queue_table, q.transactions, q.criteria;
	END LOOP;
END
$$;

CREATE VIEW rollout_backlog AS
SELECT * FROM @extschema@.rollout_backlog_rows()
 ORDER BY criteria_id, version;
COMMENT ON VIEW rollout_backlog IS
	'per criteria and version: rows ready, claimed (leased), scheduled for later and held, and the age of the oldest ready row';

CREATE FUNCTION rollout_drained(version rollout_version) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	q record;
	found_row boolean;
BEGIN
	IF version IS NULL THEN
		RETURN NULL;
	END IF;
	FOR q IN
		SELECT c.queue_table, c.due_column, c.version_column, c.transaction_column,
		       array_agg(c.transaction_id) AS transactions
		  FROM @extschema@.rollout_criteria c
		 WHERE c.multi_version
		 GROUP BY 1, 2, 3, 4
	LOOP
		EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1 AND %I IS NOT NULL %s)',
		               q.queue_table, q.version_column, q.due_column,
		               CASE WHEN q.transaction_column IS NULL THEN ''
		                    ELSE format('AND %I = ANY ($2)', q.transaction_column) END)
			INTO found_row USING version, q.transactions;
		IF found_row THEN
			RETURN false;
		END IF;
	END LOOP;
	RETURN true;
END
$$;
COMMENT ON FUNCTION rollout_drained(rollout_version) IS
	'true when no queue of any versioned criteria holds unfinished work of version';

-- ---------------------------------------------------------------------------
-- Guards against cross-version writes
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_guard_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION rollout_guard_trigger() IS
	'BEFORE UPDATE OR DELETE row trigger refusing writes to rows of newer versions; install it with rollout_enable_guard()';

CREATE FUNCTION rollout_enable_guard(tbl regclass, column_name name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'tbl must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF (SELECT relkind FROM pg_class WHERE oid = tbl) NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '"%" is not a table', tbl USING ERRCODE = 'wrong_object_type';
	END IF;
	column_name := coalesce(column_name, @extschema@.rollout_version_column(tbl));
	PERFORM @extschema@.rollout_check_column_type(tbl, column_name, '@extschema@.rollout_version');
	EXECUTE format(
		'CREATE OR REPLACE TRIGGER rollout_guard BEFORE UPDATE OR DELETE ON %s FOR EACH ROW '
		'EXECUTE FUNCTION @extschema@.rollout_guard_trigger(%L)', tbl, column_name);
END
$$;
COMMENT ON FUNCTION rollout_enable_guard(regclass, name) IS
	'refuse UPDATE and DELETE of rows of a newer version than the session''s, and changes of the version column';

CREATE FUNCTION rollout_disable_guard(tbl regclass) RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'rollout_guard') THEN
		RAISE NOTICE 'no guard on "%", skipping', tbl;
		RETURN;
	END IF;
	EXECUTE format('DROP TRIGGER rollout_guard ON %s', tbl);
END
$$;
COMMENT ON FUNCTION rollout_disable_guard(regclass) IS 'remove the guard trigger from tbl';

-- Created last: it cleans up tables that every part above configures.
CREATE EVENT TRIGGER rollout_forget_dropped_tables ON sql_drop
	EXECUTE FUNCTION rollout_forget_dropped_tables();
