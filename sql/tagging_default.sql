-- The default rollout_enable_tagging gives a version column: where the
-- session's version is the answer, the row arrives carrying it and the trigger
-- only checks it. Where inheritance or routing decides, the column has none.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET client_min_messages = warning;

-- The defaults of the version columns of a table, as \d would print them.
CREATE FUNCTION version_defaults(tbl regclass) RETURNS TABLE (column_name name, default_expr text)
LANGUAGE sql AS $$
	SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)
	  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE a.attrelid = tbl AND a.atttypid = 'rollout_version'::regtype AND NOT a.attisdropped
	 ORDER BY a.attnum
$$;

SELECT * FROM version_defaults('rollout_task_q');

CREATE TABLE shipment (shipment_key text PRIMARY KEY, order_key text);
SELECT rollout_enable_tagging('shipment');
SELECT * FROM version_defaults('shipment');

-- The default carries the session's version; the trigger still checks it.
SELECT rollout_register_version('9.4'), rollout_register_version('10.1');
SET rollout.version = '10.1';
INSERT INTO shipment VALUES ('S1', 'O1');
SELECT rollout_set_version_state('9.4', 'retired');
SET rollout.version = '9.4';
INSERT INTO shipment VALUES ('S2', 'O1');
-- Unset: the default gives NULL and the trigger refuses the row, as without it.
RESET rollout.version;
INSERT INTO shipment VALUES ('S3', 'O1');
-- An explicit value still wins over the default; an explicit NULL is tagged
-- from the session, as it was without the default.
SET rollout.version = '10.1';
INSERT INTO shipment VALUES ('S4', 'O1', '11.0');
INSERT INTO shipment (shipment_key, order_key, rollout_version) VALUES ('S5', 'O1', NULL);
SELECT shipment_key, rollout_version_format(rollout_version) FROM shipment ORDER BY 1;

-- if_unset => 'null': the default's NULL is left alone.
SELECT rollout_enable_tagging('shipment', if_unset => 'null');
RESET rollout.version;
INSERT INTO shipment VALUES ('S6', 'O1');
SELECT shipment_key, rollout_version IS NULL AS untagged FROM shipment WHERE shipment_key = 'S6';

-- Inheritance must see the column empty: reconfiguring takes the default
-- away, and the parent's version wins over the session's again.
CREATE TABLE order_head (order_key text PRIMARY KEY, rollout_version rollout_version);
INSERT INTO order_head VALUES ('O1', '11.0');
SELECT rollout_enable_tagging('shipment', inherit_from => 'order_head', inherit_on => '{order_key}');
SELECT * FROM version_defaults('shipment');
SET rollout.version = '10.1';
INSERT INTO shipment VALUES ('S7', 'O1');
SELECT shipment_key, rollout_version_format(rollout_version) FROM shipment WHERE shipment_key = 'S7';
-- Back to the session's version: the default returns.
SELECT rollout_enable_tagging('shipment');
SELECT * FROM version_defaults('shipment');

-- Routing must see the column empty too.
CREATE TABLE routed_order (order_key text PRIMARY KEY);
SELECT rollout_enable_tagging('routed_order', route_by => 'order_key');
SELECT * FROM version_defaults('routed_order');

-- Moving tagging to another column moves the default with it.
SELECT rollout_enable_tagging('shipment', column_name => 'owner_version');
SELECT * FROM version_defaults('shipment');

-- A default of the user's own is kept, and the trigger honours its value.
CREATE TABLE legacy_task (task_key int PRIMARY KEY, rollout_version rollout_version DEFAULT '10.1');
SELECT rollout_enable_tagging('legacy_task');
SELECT * FROM version_defaults('legacy_task');
SET rollout.version = '11.0';
INSERT INTO legacy_task VALUES (1);
SELECT rollout_version_format(rollout_version) FROM legacy_task;

-- Disabling takes away the default it gave, and only that one.
SELECT rollout_disable_tagging('shipment');
SELECT rollout_disable_tagging('legacy_task');
SELECT * FROM version_defaults('shipment');
SELECT * FROM version_defaults('legacy_task');

-- A partitioned table: the partitions get the default too, and a row
-- inserted straight into one is tagged.
CREATE TABLE task_log (log_id int, region text) PARTITION BY LIST (region);
CREATE TABLE task_log_eu PARTITION OF task_log FOR VALUES IN ('eu');
SELECT rollout_enable_tagging('task_log');
SELECT * FROM version_defaults('task_log_eu');
INSERT INTO task_log_eu VALUES (1, 'eu');
INSERT INTO task_log VALUES (2, 'eu');
SELECT log_id, rollout_version_format(rollout_version) FROM task_log ORDER BY 1;

RESET rollout.version;
RESET client_min_messages;
DROP TABLE shipment, order_head, routed_order, legacy_task, task_log;
DROP FUNCTION version_defaults(regclass);
DELETE FROM rollout_versions;
DELETE FROM rollout_audit;
