-- pgbench: a producer of a random version inserts new due tasks, tagged from
-- rollout.version, and records their keys in the same transaction.
\set v random(1, 2)
BEGIN;
SELECT set_config('rollout.version', CASE :v WHEN 1 THEN '9.4' ELSE '10.1' END, true);
WITH ins AS (
	INSERT INTO rollout_task_q (transaction_id, data_key)
	SELECT 'STRESS.0001', 'P-' || :client_id || '-' || g FROM generate_series(1, 3) g
	RETURNING task_q_key, rollout_version, available_date
)
INSERT INTO stress_key (task_q_key, source, version, due_at)
SELECT task_q_key, 'produced', rollout_version, available_date FROM ins;
COMMIT;
