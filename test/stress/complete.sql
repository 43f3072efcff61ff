-- pgbench: a completer takes the oldest pending normal claims (each claim is
-- acted on once) and completes them, or hands about 1 in 7 back with
-- rollout_retry; every result is recorded with the acting transaction's now().
WITH picked AS (
	UPDATE stress_claim s SET state = 'taken'
	 WHERE s.claim_id IN (SELECT claim_id FROM stress_claim
	                       WHERE state = 'pending' AND kind = 'normal'
	                       ORDER BY claim_id LIMIT 8 FOR UPDATE SKIP LOCKED)
	RETURNING s.claim_id, s.task_q_key, s.claim_token, random() < 0.15 AS do_retry,
	          CASE WHEN random() < 0.5 THEN interval '0' ELSE interval '30 milliseconds' END AS delay
)
INSERT INTO stress_action (claim_id, task_q_key, claim_token, action, delay, result, acted_at)
SELECT p.claim_id, p.task_q_key, p.claim_token,
       CASE WHEN p.do_retry THEN 'retry' ELSE 'complete' END,
       CASE WHEN p.do_retry THEN p.delay END,
       CASE WHEN p.do_retry THEN rollout_retry(p.task_q_key, p.claim_token, p.delay)
            ELSE rollout_complete(p.task_q_key, p.claim_token) END,
       now()
  -- Act in key order: completers racing for the same rows then queue
  -- behind each other instead of deadlocking.
  FROM (SELECT * FROM picked ORDER BY task_q_key OFFSET 0) p;
