-- pgbench: acts on "late" claims a second after they were made, long after
-- their 200 ms lease ran out: completes them, or hands about 3 in 10 back with
-- rollout_retry. By then most rows were claimed again, so these tokens are
-- stale and both calls must return false.
WITH picked AS (
	UPDATE stress_claim s SET state = 'taken'
	 WHERE s.claim_id IN (SELECT claim_id FROM stress_claim
	                       WHERE state = 'pending' AND kind = 'late'
	                         AND claimed_at < now() - interval '1 second'
	                       ORDER BY claim_id LIMIT 8 FOR UPDATE SKIP LOCKED)
	RETURNING s.claim_id, s.task_q_key, s.claim_token, random() < 0.3 AS do_retry
)
INSERT INTO stress_action (claim_id, task_q_key, claim_token, action, delay, late, result, acted_at)
SELECT p.claim_id, p.task_q_key, p.claim_token,
       CASE WHEN p.do_retry THEN 'retry' ELSE 'complete' END,
       CASE WHEN p.do_retry THEN interval '0' END,
       true,
       CASE WHEN p.do_retry THEN rollout_retry(p.task_q_key, p.claim_token, interval '0')
            ELSE rollout_complete(p.task_q_key, p.claim_token) END,
       now()
  -- Act in key order: completers racing for the same rows then queue
  -- behind each other instead of deadlocking.
  FROM (SELECT * FROM picked ORDER BY task_q_key OFFSET 0) p;
