-- pgbench, workload "tagging": insert :rows tasks (-D rows=N) in one
-- statement into "task", resolved through search_path to the variant's
-- schema (tag_none, tag_default, tag_plpgsql, tag_ours, tag_inherit). data_key
-- names an existing order_header row, which tag_inherit inherits from.
\set p random(0, :parents - 1)
INSERT INTO task (transaction_id, data_key)
SELECT 'TAG.0001', 'SO-' || ((:p + g) % :parents) FROM generate_series(1, :rows) g;
