-- pgbench, workload "claim", variant floor: one durable single-row UPDATE by
-- primary key on a small table, the least a claim can cost.
\set id random(1, 10000)
UPDATE floor_t SET n = n + 1 WHERE id = :id;
