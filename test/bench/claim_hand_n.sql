-- pgbench, workload "claim", variant hand, batch N: the hand-written claim
-- of up to N rows, then one fenced DELETE of all of them. run-bench.sh
-- replaces ":batch" in the LIMIT with the literal N, as a hand-written agent
-- would write it: with a parameter there, PostgreSQL re-plans the statement
-- on every call (its generic plan, sized for an unknown LIMIT, is far worse).
\set ver :vbase + random(0, :vmix) * 70000000
WITH c AS MATERIALIZED (
	SELECT task_q_key FROM hand_q
	 WHERE transaction_id = 'BENCH.0001' AND rollout_version = :ver
	   AND available_date <= now() AND NOT hold_flag
	 ORDER BY available_date, task_q_key LIMIT :batch FOR UPDATE SKIP LOCKED),
u AS (
	UPDATE hand_q q SET available_date = now() + interval '5 minutes', claim_token = gen_random_uuid(),
	       claim_count = q.claim_count + 1
	  FROM c WHERE q.task_q_key = c.task_q_key
	RETURNING q.task_q_key, q.claim_token)
SELECT coalesce(array_agg(task_q_key), '{}') AS keys, coalesce(array_agg(claim_token), '{}') AS tokens
  FROM u \gset
DELETE FROM hand_q q USING unnest(:keys::bigint[], :tokens::uuid[]) u(k, t)
 WHERE q.task_q_key = u.k AND q.claim_token = u.t;
