-- pgbench, workload "claim", variant hand, batch 1: the best hand-written
-- SKIP LOCKED claim (graphile-worker / River style, fenced by a MATERIALIZED
-- CTE, version inside the locked scan) on hand_q, an exact copy of
-- rollout_task_q without the extension's trigger, then a fenced DELETE in its
-- own transaction.
\set ver :vbase + random(0, :vmix) * 70000000
WITH c AS MATERIALIZED (
	SELECT task_q_key FROM hand_q
	 WHERE transaction_id = 'BENCH.0001' AND rollout_version = :ver
	   AND available_date <= now() AND NOT hold_flag
	 ORDER BY available_date, task_q_key LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE hand_q q SET available_date = now() + interval '5 minutes', claim_token = gen_random_uuid(),
       claim_count = q.claim_count + 1
  FROM c WHERE q.task_q_key = c.task_q_key
RETURNING q.task_q_key AS key, q.claim_token AS token \gset
DELETE FROM hand_q WHERE task_q_key = :key AND claim_token = :token;
