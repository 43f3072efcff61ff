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
