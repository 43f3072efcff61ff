-- pgbench, workload "soak", variant ours: a producer adds one due task of a
-- random version (through the tagging trigger, which keeps a given version).
\set ver :vbase + random(0, :vmix) * 70000000
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version) VALUES ('BENCH.0001', 'P', :ver);
