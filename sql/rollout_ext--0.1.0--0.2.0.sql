-- rollout_ext 0.1.0 -> 0.2.0: tagged columns default to rollout_current_version().
--
-- A row that arrives carrying its version is only checked by
-- rollout_tag_trigger; a row without one has to be formed anew, which made
-- tagging cost 8% over no tagging instead of 3%. rollout_enable_tagging now
-- gives the version column that default wherever the session's version is
-- the answer: not with inherit_from or route_by, which must see the column
-- empty. The trigger still decides, so explicit values, NULLs and the retired
-- and draining checks behave as before.

\echo Use "ALTER EXTENSION rollout_ext UPDATE TO '0.2.0'" to load this file. \quit

-- Gives tbl's column_name the default rollout_current_version() (wanted) or
-- takes that default away (not wanted). A default of the user's own is left
-- alone, and so is a table the caller cannot alter: the trigger tags its rows
-- either way, only more slowly.
CREATE FUNCTION rollout_set_tagging_default(tbl regclass, column_name name, wanted boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	current_default text;
	-- As pg_get_expr prints it under this function's search_path.
	ours CONSTANT text := '@extschema@.rollout_current_version'::regproc::text || '()';
BEGIN
	IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = tbl), 'USAGE') THEN
		RETURN;
	END IF;
	SELECT pg_get_expr(d.adbin, d.adrelid) INTO current_default
	  FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE a.attrelid = tbl AND a.attname = column_name AND NOT a.attisdropped;
	IF wanted AND current_default IS NULL THEN
		EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT @extschema@.rollout_current_version()',
		               tbl, column_name);
	ELSIF NOT wanted AND current_default = ours THEN
		EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', tbl, column_name);
	END IF;
END
$$;
COMMENT ON FUNCTION rollout_set_tagging_default(regclass, name, boolean) IS
	'give (or take away) the default rollout_current_version() of a tagged column';

CREATE OR REPLACE FUNCTION rollout_enable_tagging(
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
	previous_column name;
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

	SELECT t.column_name INTO previous_column FROM @extschema@.rollout_tagging t
	 WHERE t.tbl = rollout_enable_tagging.tbl;
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
	IF previous_column <> column_name THEN
		PERFORM @extschema@.rollout_set_tagging_default(tbl, previous_column, false);
	END IF;
	PERFORM @extschema@.rollout_set_tagging_default(tbl, column_name,
	                                                inherit_from IS NULL AND route_by IS NULL);
END
$$;

CREATE OR REPLACE FUNCTION rollout_disable_tagging(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, @extschema@, pg_temp AS $$
DECLARE
	configured_column name;
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'tbl must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	DELETE FROM @extschema@.rollout_tagging t WHERE t.tbl = rollout_disable_tagging.tbl
	RETURNING t.column_name INTO configured_column;
	IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'rollout_tag') THEN
		EXECUTE format('DROP TRIGGER rollout_tag ON %s', tbl);
	ELSE
		RAISE NOTICE 'tagging is not enabled on "%", skipping', tbl;
		IF configured_column IS NULL THEN
			RETURN;
		END IF;
	END IF;
	PERFORM @extschema@.rollout_set_tagging_default(tbl, coalesce(configured_column, 'rollout_version'),
	                                                false);
END
$$;
COMMENT ON FUNCTION rollout_disable_tagging(regclass) IS
	'remove the rollout_tag trigger from tbl and the default rollout_enable_tagging gave its column; the column and its data stay';

-- The extension's own queue is tagged from the session, as are the tables
-- already tagged that way.
ALTER TABLE rollout_task_q ALTER COLUMN rollout_version SET DEFAULT rollout_current_version();
SELECT rollout_set_tagging_default(t.tbl, t.column_name, true)
  FROM rollout_tagging t
 WHERE t.inherit_from IS NULL AND t.route_by IS NULL
   AND EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = t.tbl AND g.tgname = 'rollout_tag');
