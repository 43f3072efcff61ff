-- Registry, routing, retagging and guard errors carry specific SQLSTATEs.
BEGIN;
CREATE EXTENSION IF NOT EXISTS rollout_ext;
SELECT plan(24);

-- Registry.
SELECT throws_ok($$SELECT rollout_register_version(NULL)$$, '22004', NULL, 'null version');
SELECT throws_ok($$SELECT rollout_register_version('x')$$, '22P02', NULL, 'malformed version');
SELECT throws_ok($$SELECT rollout_set_version_state('9.4', 'active')$$, '42704',
	'rollout version 940000000 is not registered', 'state of an unregistered version');
SELECT rollout_register_version('9.4');
SELECT throws_ok($$SELECT rollout_set_version_state('9.4', 'gone')$$, '22023',
	'invalid version state "gone"', 'unknown state');
SELECT rollout_register_version('8.0');
SELECT rollout_set_version_state('8.0', 'retired');
CREATE TABLE tap_orders (k text PRIMARY KEY, n int);
SELECT rollout_enable_tagging('tap_orders');
SET LOCAL rollout.version = '8.0';
SELECT throws_ok($$INSERT INTO tap_orders VALUES ('a', 1)$$, '55000',
	'rollout version 800000000 (8.0.0.0.0.0) is retired', 'retired version cannot tag');
SELECT rollout_define_criteria('TAP');
SELECT throws_ok($$SELECT * FROM rollout_claim('TAP')$$, '55000', NULL, 'retired version cannot claim');
SET LOCAL rollout.version = '13.0';
SET LOCAL rollout.allow_unregistered = off;
SELECT throws_ok($$INSERT INTO tap_orders VALUES ('a', 1)$$, '55000',
	'rollout version 1300000000 is not registered', 'unregistered version refused when configured');
SET LOCAL rollout.allow_unregistered = on;

-- Routing.
SELECT throws_ok($$SELECT rollout_route('k')$$, '55000', 'no rollout ramp is set', 'route without a ramp');
SELECT throws_ok($$SELECT rollout_set_ramp('9.4', '10.1', 100.5)$$, '22023', NULL, 'percent above 100');
SELECT throws_ok($$SELECT rollout_set_ramp('9.4', '10.1', -1)$$, '22023', NULL, 'negative percent');
SELECT throws_ok($$SELECT rollout_set_ramp('9.4', '10.1', 10.001)$$, '22023', NULL, 'finer than 0.01%');
SELECT throws_ok($$SELECT rollout_set_ramp('9.4', '9.4', 10)$$, '22023', NULL, 'base equals target');
SELECT throws_ok($$SELECT rollout_set_ramp(NULL, '9.4', 10)$$, '22004', NULL, 'null base');
SELECT is(rollout_route(NULL), NULL, 'a NULL key routes nowhere');
SELECT is(rollout_route_bucket('hello'), 3351, 'documented bucket of "hello" (murmur3 0x248bfa47 mod 10000)');
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_orders', route_by => 'nope')$$, '42703', NULL,
	'unknown routing column');

-- Retagging.
SELECT throws_ok($$CALL rollout_retag('tap_orders', '9.4', '8.0')$$, '55000', NULL, 'retag to a retired version');
SELECT throws_ok($$CALL rollout_retag('tap_orders', '9.4', '10.1', 0)$$, '22023', NULL, 'zero batch');
SELECT throws_ok($$CALL rollout_retag(NULL, '9.4', '10.1')$$, '22004', NULL, 'null table');
SELECT throws_ok($$CALL rollout_phase_out('9.4', '9.4')$$, '22023', NULL, 'phase out into itself');

-- Guards.
SELECT rollout_enable_guard('tap_orders');
SET LOCAL rollout.version = '10.1';
INSERT INTO tap_orders VALUES ('v2', 1);
SET LOCAL rollout.version = '9.4';
SELECT throws_ok($$UPDATE tap_orders SET n = 2$$, 'RV001',
	'version 9.4.0.0.0.0 cannot update a row of newer version 10.1.0.0.0.0 in table "tap_orders"',
	'older version updating a newer row');
SET LOCAL rollout.version = '10.1';
SELECT throws_ok($$UPDATE tap_orders SET rollout_version = '9.4'$$, 'RV002', NULL, 'changing the version column');
SELECT throws_ok($$SELECT rollout_enable_guard('tap_orders', 'n')$$, '42804', NULL, 'guard on a non-version column');
SELECT is((SELECT n FROM tap_orders WHERE k = 'v2'), 1, 'refused writes changed nothing');

SELECT * FROM finish();
ROLLBACK;
