-- pgbench, workload "depth" and the claim-only variant of workload "claim",
-- variant ours: claim one task and nothing else.
-- The criteria BENCH.DEPTH leases for 1 second, so claimed rows fall due
-- again and the queue keeps its depth for the whole run.
\set ver :vbase + random(0, :vmix) * 70000000
SELECT task_q_key, claim_token FROM rollout_claim('BENCH.DEPTH', 1, :ver);
