-- Statements the extension keeps prepared per backend (completion, retry,
-- the lock of a draining version) name the extension's schema. Dropped and
-- created again in another schema within one session, the extension must
-- prepare them anew rather than run them against the old schema.
\set SHOW_CONTEXT never
\set home_db :DBNAME
CREATE DATABASE regress_kept_plans;
\c regress_kept_plans
SET client_min_messages = warning;
CREATE EXTENSION rollout_ext;
SET rollout.version = '9.4';
SELECT rollout_register_version('9.4');
SELECT rollout_set_version_state('9.4', 'draining');
SET rollout.direct_claim = off;
INSERT INTO rollout_task_q (transaction_id, data_key) VALUES ('KEPT', 'first');
SELECT rollout_retry(1, gen_random_uuid(), '1 minute') AS retried,
       rollout_complete(1, gen_random_uuid()) AS completed;

DROP EXTENSION rollout_ext CASCADE;
CREATE SCHEMA elsewhere;
CREATE EXTENSION rollout_ext SCHEMA elsewhere;
SELECT elsewhere.rollout_register_version('9.4');
SELECT elsewhere.rollout_set_version_state('9.4', 'draining');
INSERT INTO elsewhere.rollout_task_q (transaction_id, data_key) VALUES ('KEPT', 'second');
SELECT data_key, elsewhere.rollout_version_format(rollout_version) AS version
  FROM elsewhere.rollout_task_q;
SELECT elsewhere.rollout_retry(1, gen_random_uuid(), '1 minute') AS retried,
       elsewhere.rollout_complete(1, gen_random_uuid()) AS completed;

\c :home_db
DROP DATABASE regress_kept_plans;
