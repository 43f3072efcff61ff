-- pgbench, workload "depth" and the claim-only variant of workload "claim",
-- variant ours: claim one task and nothing else.
-- The criteria BENCH.DEPTH leases for 100 ms, so claimed rows fall due again
-- and the queue keeps its depth for the whole run: at 10,000 claims/s, a
-- tenth of a 10,000-row queue is leased at any time (with a 1-second lease all
-- of it was, and the fastest runs counted claims that found nothing). \gset
-- aborts the run if a claim still finds nothing.
\set ver :vbase + random(0, :vmix) * 70000000
SELECT task_q_key, claim_token FROM rollout_claim('BENCH.DEPTH', 1, :ver) \gset
