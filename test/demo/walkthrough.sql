-- A staged rollout's data side, step by step: V1 (9.4) and V2 (10.1) servers
-- share one schema, and every row records which version owns it.
\set ECHO queries
\pset footer off
CREATE EXTENSION rollout_ext;

\echo '-- Versions are numbers; the dotted form packs into the digits xxyzaabbcc.'
SELECT '10.1.0.11.12.13'::rollout_version AS v2_numeric,
       rollout_version_format('940010203') AS v1_dotted,
       '9.4'::rollout_version < '10.1'::rollout_version AS v1_older;

\echo '-- Orders are tagged from the session; tasks inherit their order''s version.'
CREATE TABLE order_header (order_header_key text PRIMARY KEY, document_type text);
CREATE TABLE task_q (task_q_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     transaction_id text, data_key text);
SELECT rollout_enable_tagging('order_header');
SELECT rollout_enable_tagging('task_q', inherit_from => 'order_header',
                              inherit_on => '{data_key}', parent_columns => '{order_header_key}');

\echo '-- A V1 application server creates orders...'
SET rollout.version = '9.4';
INSERT INTO order_header VALUES ('SO-1', '0001'), ('PO-1', '0005');
\echo '-- ...and so does a V2 server, which the load balancer sends 10% of orders to.'
SET rollout.version = '10.1';
INSERT INTO order_header VALUES ('SO-2', '0001');

\echo '-- A V1 agent creates the schedule tasks of every order: each task keeps its order''s version.'
SET rollout.version = '9.4';
INSERT INTO task_q (transaction_id, data_key)
SELECT 'SCHEDULE.' || document_type, order_header_key FROM order_header;

SELECT t.transaction_id, t.data_key, rollout_version_format(t.rollout_version) AS task_version
  FROM task_q t ORDER BY t.task_q_key;

\echo '-- A server with no version set cannot create untagged rows (fail closed).'
RESET rollout.version;
\set ON_ERROR_STOP 0
INSERT INTO order_header VALUES ('SO-3', '0001');
\set ON_ERROR_STOP 1

\echo '-- Rows per version: what each version''s agents will process.'
SELECT rollout_version_format(rollout_version) AS version, count(*) AS orders
  FROM order_header GROUP BY rollout_version ORDER BY rollout_version;
