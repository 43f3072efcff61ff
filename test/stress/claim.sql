-- pgbench: a claimer of a random version (set per transaction, as behind a
-- transaction-mode pooler) claims a small batch with a short lease and logs
-- every claimed row in the same transaction. About 1 in 12 claimed rows is
-- abandoned (never completed) and 1 in 12 is completed only late.
\set v random(1, 2)
\set n random(1, 5)
BEGIN;
SELECT set_config('rollout.version', CASE :v WHEN 1 THEN '9.4' ELSE '10.1' END, true);
INSERT INTO stress_claim (task_q_key, transaction_id, claim_token, claim_count, claimer_version,
                          session_version, row_version, claimed_at, lease_until, returned_at, kind)
SELECT c.task_q_key, c.transaction_id, c.claim_token, c.claim_count,
       (CASE :v WHEN 1 THEN '9.4' ELSE '10.1' END)::rollout_version,
       rollout_current_version(), c.rollout_version, statement_timestamp(), c.available_date, clock_timestamp(),
       CASE least(floor(random() * 12)::int, 2) WHEN 0 THEN 'abandon' WHEN 1 THEN 'late' ELSE 'normal' END
  FROM rollout_claim('STRESS.0001', :n) c;
COMMIT;
