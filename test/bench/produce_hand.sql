-- pgbench, workload "soak", variant hand: the same producer on hand_q.
\set ver :vbase + random(0, :vmix) * 70000000
INSERT INTO hand_q (transaction_id, data_key, rollout_version) VALUES ('BENCH.0001', 'P', :ver);
