-- Progressive rollout: rollout_start_plan ramps the target step by step,
-- rollout_advance judges each step on rollout_stats against the base, and a
-- plan advances, holds, waits for evidence, pauses, completes, or aborts and
-- rolls back. The statistics need shared_preload_libraries: the test clusters
-- preload (progressive_rollout.out); without it a plan cannot start
-- (progressive_rollout_1.out).
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SELECT current_setting('shared_preload_libraries') ~ 'rollout_ext' AS preloaded \gset
SELECT rollout_register_version('9.4'), rollout_register_version('10.1'),
       rollout_register_version('10.2');
\if :preloaded
SELECT rollout_stats_reset();
SET rollout.claim_rescan_interval = 0;
SELECT rollout_define_criteria('PLAN.WORK', lease => '1 hour');

-- Work done by a version's agents: `finished` rows of `version`, of which
-- `failing` are handed back (rollout_retry) and the rest completed.
CREATE FUNCTION pg_temp.work(version rollout_version, finished integer, failing integer)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	SET LOCAL rollout.restoring = on;
	INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
	SELECT 'PLAN.WORK', 'w' || g, version FROM generate_series(1, finished) g;
	PERFORM CASE WHEN row_number() OVER () <= failing
	             THEN rollout_retry(task_q_key, claim_token, '1 hour')
	             ELSE rollout_complete(task_q_key, claim_token) END
	   FROM rollout_claim('PLAN.WORK', finished, as_version => version);
	RETURN format('%s: %s finished, %s failed', rollout_version_format(version), finished, failing);
END
$$;
-- The step's hold passes without waiting: the step began an hour ago.
CREATE FUNCTION pg_temp.hold_passed() RETURNS void LANGUAGE sql AS $$
	UPDATE rollout_plan SET step_started_at = step_started_at - interval '1 hour' WHERE state = 'running'
$$;
CREATE VIEW plan_now AS
SELECT plan_id, rollout_version_format(base_version) AS base,
       rollout_version_format(target_version) AS target, state, percent, step, last_decision,
       base_finished, base_failed, target_finished, target_failed
  FROM rollout_plans ORDER BY plan_id;

-- Bad arguments: 22023, naming the argument.
SELECT rollout_start_plan('9.4', '11.0');
SELECT rollout_start_plan(NULL, '10.1');
SELECT rollout_start_plan('9.4', '9.4');
SELECT rollout_start_plan('9.4', '10.1', steps => '{}');
SELECT rollout_start_plan('9.4', '10.1', steps => '{5,1,100}');
SELECT rollout_start_plan('9.4', '10.1', steps => '{0,50}');
SELECT rollout_start_plan('9.4', '10.1', steps => '{50,100.5}');
SELECT rollout_start_plan('9.4', '10.1', steps => '{1,NULL}');
SELECT rollout_start_plan('9.4', '10.1', step_hold => '0');
SELECT rollout_start_plan('9.4', '10.1', min_samples => 0);
SELECT rollout_start_plan('9.4', '10.1', max_failure_ratio => 0.5);
SELECT rollout_start_plan('9.4', '10.1', failure_tolerance => 1);
SELECT rollout_start_plan('9.4', '10.1', max_work_time_ratio => NULL);
SELECT rollout_start_plan('9.4', '10.1', confidence => 1);
SELECT rollout_start_plan('9.4', '10.1', on_failure => 'ignore');
SELECT count(*) AS plans_after_bad_arguments FROM rollout_plan;

-- A plan starts at its first step: the ramp follows.
SELECT rollout_start_plan('9.4', '10.1', steps => '{5,50,100}', min_samples => 10) AS plan \gset
SELECT rollout_version_format(base_version) AS base, rollout_version_format(target_version) AS target,
       percent FROM rollout_ramp;
-- One plan at a time drives the ramp.
SELECT rollout_start_plan('9.4', '10.2');

-- No work yet: inconclusive, the plan holds.
CALL rollout_advance();
SELECT * FROM plan_now;
SELECT reason FROM rollout_plans;

-- 1 failure in 10 finished rows against 1 in 100 is not evidence at 99%
-- (p = 0.17), although 10% is above 2 × 1% + 1%: a bare threshold would
-- abort here. The step is not over: hold.
SELECT pg_temp.work('9.4', 100, 1), pg_temp.work('10.1', 10, 1);
CALL rollout_advance();
SELECT * FROM plan_now;
SELECT reason FROM rollout_plans;
SELECT round(p_value::numeric, 4) AS p_value FROM rollout_plans;

-- Equal rates with enough samples once the hold has passed: advance.
SELECT pg_temp.hold_passed();
CALL rollout_advance();
SELECT * FROM plan_now;
SELECT percent AS ramp FROM rollout_ramp;
-- The new step's window starts empty: inconclusive again.
CALL rollout_advance();
SELECT last_decision, target_finished FROM rollout_plans;

-- Pause, resume; states a plan is not in are refused.
SELECT rollout_pause_plan(:plan);
SELECT rollout_pause_plan(:plan);
CALL rollout_advance();
SELECT state, last_decision FROM rollout_plans;
SELECT rollout_resume_plan(:plan);
SELECT rollout_resume_plan(:plan);
SELECT rollout_pause_plan(12345);
SELECT rollout_abort_plan(:plan, '');

-- A step inconclusive for more than 4 × step_hold pauses the plan.
UPDATE rollout_plan SET step_started_at = now() - 5 * step_hold WHERE plan_id = :plan;
CALL rollout_advance();
SELECT state, last_decision, reason FROM rollout_plans;
SELECT rollout_resume_plan(:plan);

-- Through the last step to completed.
SELECT pg_temp.work('9.4', 50, 0), pg_temp.work('10.1', 50, 0);
SELECT pg_temp.hold_passed();
CALL rollout_advance();
SELECT pg_temp.work('10.1', 40, 0);
SELECT pg_temp.hold_passed();
CALL rollout_advance();
SELECT * FROM plan_now;
SELECT percent AS ramp FROM rollout_ramp;

-- A target at 50% failures against a base at 0%, 40 rows each: abort at
-- the first step. The ramp is 0 at once; from the next call on, the
-- target's unclaimed rows go back to the base, and the target is retired.
SELECT rollout_set_ramp('10.1', '10.2', 0);
SELECT rollout_start_plan('10.1', '10.2', steps => '{1,10,100}', min_samples => 200) AS bad_plan \gset
BEGIN;
SET LOCAL rollout.restoring = on;
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
SELECT 'PLAN.WORK', 'left-' || g, '10.2' FROM generate_series(1, 5) g;
COMMIT;
SELECT pg_temp.work('10.1', 40, 0), pg_temp.work('10.2', 40, 20);
CALL rollout_advance();
SELECT * FROM plan_now WHERE plan_id = :bad_plan;
SELECT reason FROM rollout_plans WHERE plan_id = :bad_plan;
SELECT percent AS ramp FROM rollout_ramp;
SELECT rollout_version_format(rollout_version) AS version, count(*)
  FROM rollout_task_q WHERE data_key LIKE 'left-%' GROUP BY 1;
CALL rollout_advance();
SELECT state FROM rollout_plans WHERE plan_id = :bad_plan;
SELECT rollout_version_format(rollout_version) AS version, count(*)
  FROM rollout_task_q WHERE data_key LIKE 'left-%' GROUP BY 1;
SELECT rollout_version_format(version) AS version, state FROM rollout_versions ORDER BY version;

-- Every decision is in the audit with its figures.
SELECT detail->>'plan_id' = :'plan' AS first_plan, action, detail->>'decision' AS decision,
       detail->>'percent' AS percent,
       detail->'figures'->'totals'->>'target_finished' AS target_finished
  FROM rollout_audit WHERE action LIKE 'plan%' ORDER BY audit_id;

-- rollout_advance commits: not inside a transaction block.
BEGIN;
CALL rollout_advance();
ROLLBACK;
-- Hand-made abort with on_failure => 'abort': the rows stay where they are.
SELECT rollout_register_version('10.3');
SELECT rollout_start_plan('10.1', '10.3', on_failure => 'abort') AS manual \gset
SELECT rollout_abort_plan(:manual, 'the dashboard looks wrong');
SELECT state, percent, finished_at IS NOT NULL AS finished FROM rollout_plans WHERE plan_id = :manual;
SELECT rollout_abort_plan(:manual, 'again');

-- A target whose rows take far longer (0.2 s against under a millisecond):
-- its work time p95 is above 2 × the base's, and its rows slower than that
-- are too many for chance. No failures: it aborts on work time alone.
SELECT rollout_register_version('10.4');
SELECT rollout_start_plan('10.1', '10.4', min_samples => 10, on_failure => 'abort') AS slow_plan \gset
SELECT pg_temp.work('10.1', 40, 0);
BEGIN;
SET LOCAL rollout.restoring = on;
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
SELECT 'PLAN.WORK', 'slow-' || g, '10.4' FROM generate_series(1, 12) g;
COMMIT;
CREATE TEMP TABLE slow_claims AS
SELECT task_q_key, claim_token FROM rollout_claim('PLAN.WORK', 12, as_version => '10.4');
SELECT pg_sleep(0.2);
SELECT count(rollout_complete(task_q_key, claim_token)) AS completed_slowly FROM slow_claims;
CALL rollout_advance();
SELECT state, last_decision, target_failed, reason ~ '^PLAN.WORK: the target''s work time p95 .* is above 2.0 × the base''s .*, with 12 of its 12 rows slower than that against 0 of the base''s 40 \(p = .* < 0.01\)$' AS on_work_time
  FROM rollout_plans WHERE plan_id = :slow_plan;

DROP VIEW plan_now;
DELETE FROM rollout_plan;
DELETE FROM rollout_ramp;
DELETE FROM rollout_task_q WHERE transaction_id = 'PLAN.WORK';
SELECT rollout_drop_criteria('PLAN.WORK');
SELECT rollout_stats_reset();
\else
SELECT rollout_start_plan('9.4', '10.1');
\endif
