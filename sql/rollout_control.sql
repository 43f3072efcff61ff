-- Staged rollout control: registry, routing, retagging, phase-out, backlog,
-- drain status and cross-version guards.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never

-- Version registry: states and their audit trail.
SELECT rollout_register_version('9.4', 'V1');
SELECT rollout_register_version('10.1', 'V2 canary');
SELECT rollout_register_version('10.1');  -- keeps the label
SELECT rollout_version_format(version), label, state FROM rollout_versions ORDER BY version;
SELECT rollout_set_version_state('10.1', 'draining');
SELECT rollout_set_version_state('10.1', 'draining');  -- no change, no audit
SELECT rollout_set_version_state('10.1', 'active');
SELECT action, rollout_version_format(version), detail, actor = session_user AS by_me
  FROM rollout_audit ORDER BY audit_id;

-- Retired versions cannot tag (trigger, explicit value) or claim.
SELECT rollout_register_version('8.0', 'ancient');
SELECT rollout_set_version_state('8.0', 'retired');
CREATE TABLE orders (order_key text PRIMARY KEY, amount int);
SELECT rollout_enable_tagging('orders');
SET rollout.version = '8.0';
INSERT INTO orders VALUES ('R1', 1);
SET rollout.version = '10.1';
INSERT INTO orders (order_key, rollout_version) VALUES ('R2', '8.0');
SELECT rollout_define_criteria('SCHEDULE.0001');
SELECT * FROM rollout_claim('SCHEDULE.0001', 1, '8.0');
SELECT count(*) FROM orders;
-- Unregistered versions tag freely by default; an administrator can forbid it.
SET rollout.version = '12.0';
INSERT INTO orders VALUES ('U1', 1);
SET rollout.allow_unregistered = off;
INSERT INTO orders VALUES ('U2', 1);
SELECT * FROM rollout_claim('SCHEDULE.0001', 1);
RESET rollout.allow_unregistered;
DELETE FROM orders;

-- Routing: a deterministic, sticky split of new keys.
SELECT rollout_route('ORDER-1');
SELECT rollout_set_ramp('9.4', '10.1', 10);
SELECT rollout_route_bucket('ORDER-1'), rollout_route_bucket('hello');
CREATE TEMP TABLE keys AS
SELECT 'ORDER-' || g AS k, rollout_route('ORDER-' || g) = '10.1' AS at10
  FROM generate_series(1, 100000) g;
SELECT count(*) FILTER (WHERE at10) BETWEEN 9500 AND 10500 AS ten_percent_within_half_a_point FROM keys;
SELECT rollout_set_ramp('9.4', '10.1', 50);
SELECT count(*) FILTER (WHERE at10 AND rollout_route(k) <> '10.1') AS left_target_when_raised,
       count(*) FILTER (WHERE rollout_route(k) = '10.1') BETWEEN 49000 AND 51000 AS fifty_percent
  FROM keys;
SELECT rollout_set_ramp('9.4', '10.1', 0.01);
SELECT count(*) FILTER (WHERE rollout_route(k) = '10.1') BETWEEN 1 AND 30 AS one_in_ten_thousand FROM keys;
SELECT rollout_set_ramp('9.4', '10.1', 0);
SELECT count(*) FILTER (WHERE rollout_route(k) = '10.1') AS routed_at_zero FROM keys;
SELECT rollout_set_ramp('9.4', '10.1', 100);
SELECT count(*) FILTER (WHERE rollout_route(k) = '9.4') AS base_at_hundred FROM keys;

-- The routing trigger tags new rows by key; tagged rows never move.
SELECT rollout_enable_tagging('orders', route_by => 'order_key');
SELECT rollout_set_ramp('9.4', '10.1', 10);
RESET rollout.version;
INSERT INTO orders SELECT k FROM keys;
SELECT count(*) FILTER (WHERE rollout_version = '10.1') = count(*) FILTER (WHERE at10) AS matches_route,
       count(*) FILTER (WHERE rollout_version NOT IN ('9.4', '10.1')) AS other
  FROM orders JOIN keys ON k = order_key;
SELECT rollout_set_ramp('9.4', '10.1', 50);
SELECT count(*) FILTER (WHERE rollout_version = '10.1') = count(*) FILTER (WHERE at10) AS unchanged_by_ramp
  FROM orders JOIN keys ON k = order_key;
INSERT INTO orders (order_key) VALUES (NULL);  -- no key: falls through to the session
SELECT rollout_set_ramp('9.4', '10.1', 10);
SELECT action, detail->>'percent' AS percent, detail->>'previous_percent' AS previous
  FROM rollout_audit WHERE action = 'set_ramp' ORDER BY audit_id;
TRUNCATE orders;

-- Retagging moves unclaimed rows in batches, skips leased ones, and is audited.
SET rollout.version = '9.4';
INSERT INTO rollout_task_q (transaction_id, data_key) SELECT 'SCHEDULE.0001', 'T' || g FROM generate_series(1, 25) g;
SELECT count(*) AS claimed FROM rollout_claim('SCHEDULE.0001', 5);
CALL rollout_retag('rollout_task_q', '9.4', '10.1', 10);
CALL rollout_retag('rollout_task_q', '9.4', '10.1', 10);  -- only the leased rows remain
SELECT rollout_version_format(rollout_version), claim_token IS NOT NULL AS leased, count(*)
  FROM rollout_task_q GROUP BY 1, 2 ORDER BY 1, 2;
SELECT detail - 'table' AS detail FROM rollout_audit WHERE action = 'retag' ORDER BY audit_id;

-- Backlog and drain status.
SET rollout.version = '10.1';
INSERT INTO rollout_task_q (transaction_id, data_key, available_date)
VALUES ('SCHEDULE.0001', 'later', now() + interval '1 hour');
INSERT INTO rollout_task_q (transaction_id, data_key, hold_flag) VALUES ('SCHEDULE.0001', 'held', true);
SELECT criteria_id, rollout_version_format(version), ready, claimed, scheduled, held,
       oldest_ready_age IS NOT NULL AS has_age
  FROM rollout_backlog ORDER BY criteria_id, version;
SELECT rollout_drained('9.4') AS v1_drained, rollout_drained('10.1') AS v2_drained,
       rollout_drained('11.0') AS unknown_drained;

-- Phase-out: drain, leave leased rows, retire once nothing is left.
CALL rollout_phase_out('9.4', '10.1');
SELECT rollout_version_format(version), state FROM rollout_versions WHERE version = '9.4';
UPDATE rollout_task_q SET available_date = now() - interval '1 second'
 WHERE rollout_version = '9.4';  -- the leases end
SET rollout.version = '9.4';
CALL rollout_phase_out('9.4', '10.1');
SELECT rollout_drained('9.4');
SELECT count(*) FROM rollout_task_q WHERE rollout_version = '9.4';
-- A retired version can no longer claim.
SELECT * FROM rollout_claim('SCHEDULE.0001', 1, '9.4');
-- Rollback: the same machinery the other way (reactivate V1, drain V2 into it).
SELECT rollout_set_version_state('9.4', 'active');
SELECT rollout_set_ramp('9.4', '10.1', 0);
CALL rollout_phase_out('10.1', '9.4');
SELECT rollout_version_format(version), state FROM rollout_versions ORDER BY version;
SELECT rollout_version_format(rollout_version), count(*) FROM rollout_task_q GROUP BY 1;

-- Guards: an older version cannot change a newer version's rows.
SELECT rollout_set_version_state('10.1', 'active');
TRUNCATE orders;
SELECT rollout_enable_tagging('orders');
SELECT rollout_enable_guard('orders');
SET rollout.version = '10.1';
INSERT INTO orders VALUES ('V2-ORDER', 1);
SET rollout.version = '9.4';
INSERT INTO orders VALUES ('V1-ORDER', 1);
UPDATE orders SET amount = 2 WHERE order_key = 'V2-ORDER';
DELETE FROM orders WHERE order_key = 'V2-ORDER';
UPDATE orders SET amount = 2 WHERE order_key = 'V1-ORDER';  -- its own row
SET rollout.version = '10.1';
UPDATE orders SET amount = 3;  -- a newer version may change older rows
UPDATE orders SET rollout_version = '9.4' WHERE order_key = 'V2-ORDER';
RESET rollout.version;
UPDATE orders SET amount = 4 WHERE order_key = 'V1-ORDER';
SET rollout.guard_unversioned = 'allow';
UPDATE orders SET amount = 4 WHERE order_key = 'V1-ORDER';
RESET rollout.guard_unversioned;
-- The administrator bypass works and is audited once per transaction and table.
SET rollout.version = '9.4';
BEGIN;
SET LOCAL rollout.guard_bypass = on;
UPDATE orders SET amount = 5;
DELETE FROM orders WHERE order_key = 'V2-ORDER';
COMMIT;
SELECT action, detail FROM rollout_audit WHERE action = 'guard_bypass';
-- Retagging passes the guard.
SET rollout.version = '10.1';
INSERT INTO orders VALUES ('V2-AGAIN', 1);
CALL rollout_retag('orders', '10.1', '9.4');
SELECT order_key, rollout_version_format(rollout_version), amount FROM orders ORDER BY 1;
SELECT rollout_disable_guard('orders');
SELECT rollout_disable_guard('orders');

DROP TABLE orders;
TRUNCATE rollout_task_q, rollout_versions, rollout_ramp, rollout_audit;
DELETE FROM rollout_criteria;
