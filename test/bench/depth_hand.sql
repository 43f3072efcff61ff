-- pgbench, workload "depth" and the claim-only variant of workload "claim",
-- variant hand: the hand-written claim of one row, with the same 100 ms lease as
-- depth_ours.sql, and the same \gset, which aborts the run if a claim finds nothing.
\set ver :vbase + random(0, :vmix) * 70000000
WITH c AS MATERIALIZED (
	SELECT task_q_key FROM hand_q
	 WHERE transaction_id = 'BENCH.0001' AND rollout_version = :ver
	   AND available_date <= now() AND NOT hold_flag
	 ORDER BY available_date, task_q_key LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE hand_q q SET available_date = now() + interval '100 milliseconds', claim_token = gen_random_uuid(),
       claim_count = q.claim_count + 1
  FROM c WHERE q.task_q_key = c.task_q_key
RETURNING q.task_q_key, q.claim_token \gset
