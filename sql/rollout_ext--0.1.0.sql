-- rollout_ext 0.1.0: the rollout_version type, the rollout.version setting and
-- the tagging trigger.

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
-- Tagging
-- ---------------------------------------------------------------------------

CREATE FUNCTION rollout_tag_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION rollout_tag_trigger() IS
	'BEFORE INSERT row trigger that tags new rows; install it with rollout_enable_tagging()';

CREATE FUNCTION rollout_enable_tagging(
	tbl regclass,
	column_name name DEFAULT 'rollout_version',
	if_unset text DEFAULT 'error',
	inherit_from regclass DEFAULT NULL,
	inherit_on name[] DEFAULT NULL,
	parent_columns name[] DEFAULT NULL
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	version_type CONSTANT regtype := '@extschema@.rollout_version'::regtype;
	existing_type regtype;
	parent_name text := '';
	trigger_args text[];
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
		SELECT format('%I.%I', n.nspname, c.relname) INTO parent_name
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.oid = inherit_from;
	END IF;

	trigger_args := ARRAY[column_name::text, if_unset, parent_name]
		|| coalesce(inherit_on::text[], '{}') || coalesce(parent_columns::text[], '{}');
	EXECUTE format(
		'CREATE OR REPLACE TRIGGER rollout_tag BEFORE INSERT ON %s FOR EACH ROW '
		'EXECUTE FUNCTION @extschema@.rollout_tag_trigger(%s)',
		tbl, (SELECT string_agg(quote_literal(a), ', ') FROM unnest(trigger_args) a));
END
$$;
COMMENT ON FUNCTION rollout_enable_tagging(regclass, name, text, regclass, name[], name[]) IS
	'install (or update) the rollout_tag trigger that tags new rows of tbl';

-- Raises undefined_column for the first of columns that tbl lacks.
CREATE FUNCTION rollout_check_columns(tbl regclass, columns name[]) RETURNS void
LANGUAGE plpgsql AS $$
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

CREATE FUNCTION rollout_disable_tagging(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'tbl must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'rollout_tag') THEN
		RAISE NOTICE 'tagging is not enabled on "%", skipping', tbl;
		RETURN;
	END IF;
	EXECUTE format('DROP TRIGGER rollout_tag ON %s', tbl);
END
$$;
COMMENT ON FUNCTION rollout_disable_tagging(regclass) IS
	'remove the rollout_tag trigger from tbl; the column and its data stay';

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

SELECT rollout_enable_tagging('rollout_task_q');
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

-- Claims cache criteria per backend; any change to this table tells every
-- backend to drop its cache at commit.
CREATE FUNCTION rollout_criteria_changed() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE TRIGGER rollout_criteria_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rollout_criteria
	FOR EACH STATEMENT EXECUTE FUNCTION rollout_criteria_changed();

-- Raises datatype_mismatch unless tbl.col has the expected type.
CREATE FUNCTION rollout_check_column_type(tbl regclass, col name, expected regtype)
RETURNS void LANGUAGE plpgsql AS $$
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

CREATE FUNCTION rollout_define_criteria(
	criteria_id text,
	transaction_id text DEFAULT NULL,
	queue_table regclass DEFAULT NULL,
	key_column name DEFAULT NULL,
	due_column name DEFAULT NULL,
	version_column name DEFAULT 'rollout_version',
	transaction_column name DEFAULT NULL,
	hold_column name DEFAULT NULL,
	multi_version boolean DEFAULT true,
	base_version boolean DEFAULT false,
	batch_size integer DEFAULT 5000,
	lease interval DEFAULT '5 minutes',
	token_column name DEFAULT 'rollout_claim_token'
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	task_q CONSTANT regclass := '@extschema@.rollout_task_q'::regclass;
	count_column name;
BEGIN
	IF criteria_id IS NULL OR multi_version IS NULL OR base_version IS NULL
	   OR batch_size IS NULL OR lease IS NULL OR version_column IS NULL THEN
		RAISE EXCEPTION 'criteria_id, version_column, multi_version, base_version, batch_size and lease must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF length(criteria_id) NOT BETWEEN 1 AND 200 THEN
		RAISE EXCEPTION 'criteria id must be 1 to 200 characters long'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF batch_size <= 0 THEN
		RAISE EXCEPTION 'batch_size must be positive, not %', batch_size
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF lease <= interval '0' THEN
		RAISE EXCEPTION 'lease must be positive, not %', lease
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'The lease is how long a claimed row stays with its claimer before another agent may take it.';
	END IF;
	transaction_id := coalesce(transaction_id, criteria_id);
	queue_table := coalesce(queue_table, task_q);

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
		IF token_column IS NULL THEN
			RAISE EXCEPTION 'token_column must not be null' USING ERRCODE = 'null_value_not_allowed';
		END IF;
		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = queue_table
		                AND attname = token_column AND attnum > 0 AND NOT attisdropped) THEN
			EXECUTE format('ALTER TABLE %s ADD COLUMN %I uuid', queue_table, token_column);
		END IF;
		PERFORM @extschema@.rollout_check_column_type(queue_table, token_column, 'uuid');
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
RETURNS void LANGUAGE plpgsql AS $$
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

CREATE FUNCTION rollout_complete(task_q_key bigint, claim_token uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM @extschema@.rollout_task_q t
	 WHERE t.task_q_key = rollout_complete.task_q_key AND t.claim_token = rollout_complete.claim_token;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION rollout_complete(bigint, uuid) IS
	'delete a finished task; false (and no change) when the claim token is no longer current';

CREATE FUNCTION rollout_retry(task_q_key bigint, claim_token uuid, delay interval)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF delay IS NULL OR delay < interval '0' THEN
		RAISE EXCEPTION 'delay must be zero or positive, not %', coalesce(delay::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE @extschema@.rollout_task_q t
	   SET available_date = now() + delay, claim_token = NULL
	 WHERE t.task_q_key = rollout_retry.task_q_key AND t.claim_token = rollout_retry.claim_token;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION rollout_retry(bigint, uuid, interval) IS
	'hand a task back, due again after delay; false (and no change) when the claim token is no longer current';

-- Generic completion: on a driver table the agent changed the row itself, so
-- completing only ends the claim, and the row is due again at next_due, or
-- never (NULL).
CREATE FUNCTION rollout_complete_rows(criteria_id text, key text, claim_token uuid,
                                      next_due timestamptz DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
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
RETURNS boolean LANGUAGE plpgsql AS $$
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
