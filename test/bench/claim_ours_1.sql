-- pgbench, workload "claim", variant ours, batch 1: an agent claims one task
-- with rollout_claim (its own transaction), then completes it with
-- rollout_complete (another transaction). The agent's version is drawn per
-- transaction: -D vbase=940000000 (9.4) -D vmix=1 mixes in 10.1 (1010000000);
-- vmix=0 always claims as vbase.
\set ver :vbase + random(0, :vmix) * 70000000
SELECT task_q_key AS key, claim_token AS token FROM rollout_claim('BENCH.0001', 1, :ver) \gset
SELECT rollout_complete(:key, :token);
