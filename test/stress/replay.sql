-- pgbench: replays the token of an action that already succeeded (a finished
-- complete or retry); the token is spent, so the completion must return false.
INSERT INTO stress_action (claim_id, task_q_key, claim_token, action, result, acted_at)
SELECT a.claim_id, a.task_q_key, a.claim_token, 'replay',
       rollout_complete(a.task_q_key, a.claim_token), now()
  FROM (SELECT claim_id, task_q_key, claim_token FROM stress_action
         WHERE action_id >= (SELECT (random() * max(action_id))::bigint FROM stress_action)
           AND result AND action <> 'replay'
         ORDER BY action_id LIMIT 1) a;
