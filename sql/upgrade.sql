-- ALTER EXTENSION rollout_ext UPDATE from 0.1.0: the functions change, and
-- the tables tagged from the session get the default 0.2.0 gives them;
-- inheriting and routed ones do not, and no row changes.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS rollout_ext CASCADE;
CREATE EXTENSION rollout_ext VERSION '0.1.0';
RESET client_min_messages;
\set SHOW_CONTEXT never

CREATE TABLE up_order (order_key text PRIMARY KEY);
CREATE TABLE up_line (line_key text PRIMARY KEY, order_key text);
CREATE TABLE up_routed (route_key text PRIMARY KEY);
SELECT rollout_enable_tagging('up_order'),
       rollout_enable_tagging('up_line', inherit_from => 'up_order', inherit_on => '{order_key}'),
       rollout_enable_tagging('up_routed', route_by => 'route_key');
SET rollout.version = '10.1';
INSERT INTO up_order VALUES ('O1', '11.0');
INSERT INTO up_line VALUES ('L1', 'O1');

-- The default of each table's version column, before and after the update.
CREATE TEMP VIEW version_column_defaults AS
SELECT c.relname, pg_get_expr(d.adbin, d.adrelid) AS default_expr
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'rollout_version'
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relname IN ('up_order', 'up_line', 'up_routed', 'rollout_task_q');

-- What 0.1.0 gave: no defaults.
SELECT * FROM version_column_defaults ORDER BY 1;

-- A ramp part way through, and where it sends some keys.
SELECT rollout_set_ramp('9.4', '10.1', 37.5);
CREATE TEMP TABLE routed_before AS
SELECT 'K-' || g AS k, rollout_route('K-' || g) AS version FROM generate_series(1, 2000) g;

-- A criteria and a queued task, from before parking existed.
SELECT rollout_define_criteria('UP.TASKS', lease => '1 hour');
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('UP.TASKS', 'T1');

ALTER EXTENSION rollout_ext UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'rollout_ext';

SELECT * FROM version_column_defaults ORDER BY 1;

-- The rows are as they were, and tagging works as before.
INSERT INTO up_order VALUES ('O2');
INSERT INTO up_line VALUES ('L2', 'O1');
SELECT order_key, rollout_version_format(rollout_version) FROM up_order ORDER BY 1;
SELECT line_key, rollout_version_format(rollout_version) FROM up_line ORDER BY 1;
RESET rollout.version;
INSERT INTO up_order VALUES ('O3');

-- 0.2.0's functions are the ones called.
SELECT rollout_disable_tagging('up_order');
SELECT default_expr IS NULL AS default_gone FROM version_column_defaults WHERE relname = 'up_order';

-- 0.3.0: the ramp kept murmur3, so every key is where it was; the casts from
-- the types drivers bind are implicit.
SELECT scheme, percent FROM rollout_ramp;
SELECT count(*) AS keys_moved FROM routed_before WHERE rollout_route(k) <> version;
SELECT castsource::regtype, castcontext FROM pg_cast
 WHERE casttarget = 'rollout_version'::regtype ORDER BY castsource::regtype::text;
DELETE FROM rollout_ramp;
-- The criteria has no attempt limit; the task is not parked and the backlog
-- has its parked column; no plan runs.
SELECT criteria_id, max_attempts FROM rollout_criteria;
SELECT criteria_id, ready, held, parked FROM rollout_backlog;
SELECT data_key, parked_at FROM rollout_task_q;
SELECT count(*) AS plans FROM rollout_plans;
DELETE FROM rollout_task_q;
SELECT rollout_drop_criteria('UP.TASKS');

-- A second update has nothing to do.
ALTER EXTENSION rollout_ext UPDATE;

DROP VIEW version_column_defaults;
DROP TABLE up_order, up_line, up_routed;
