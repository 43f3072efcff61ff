-- pgbench, workload "claim", variant ours, batch :batch (-D batch=N): claim
-- up to N tasks in one transaction, then complete them all in a second one.
-- \gset needs one row, so the claim is folded into arrays.
\set ver :vbase + random(0, :vmix) * 70000000
SELECT coalesce(array_agg(task_q_key), '{}') AS keys, coalesce(array_agg(claim_token), '{}') AS tokens
  FROM rollout_claim('BENCH.0001', :batch, :ver) \gset
SELECT count(*) FILTER (WHERE rollout_complete(k, t)) AS done
  FROM unnest(:keys::bigint[], :tokens::uuid[]) u(k, t);
