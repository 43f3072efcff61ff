-- Every user-facing error of the core carries a specific SQLSTATE and a
-- message in PostgreSQL's style, and leaves the data unchanged.
BEGIN;
CREATE EXTENSION IF NOT EXISTS rollout_ext;
SELECT plan(34);

-- Type input: 22P02 for bad syntax, 22003 for values beyond 64 bits.
SELECT throws_ok($$SELECT ''::rollout_version$$, '22P02',
	'invalid input syntax for type rollout_version: ""', 'empty string');
SELECT throws_ok($$SELECT ' '::rollout_version$$, '22P02', NULL, 'blank string');
SELECT throws_ok($$SELECT '-5'::rollout_version$$, '22P02', NULL, 'negative');
SELECT throws_ok($$SELECT '+5'::rollout_version$$, '22P02', NULL, 'plus sign');
SELECT throws_ok($$SELECT '1 2'::rollout_version$$, '22P02', NULL, 'embedded blank');
SELECT throws_ok($$SELECT 'abc'::rollout_version$$, '22P02', NULL, 'letters');
SELECT throws_ok($$SELECT '9223372036854775808'::rollout_version$$, '22003',
	'value "9223372036854775808" is out of range for type rollout_version', 'above int64');
SELECT throws_ok($$SELECT '92233720369.0.0'::rollout_version$$, '22003', NULL, 'dotted above int64');
SELECT throws_ok($$SELECT '10.10'::rollout_version$$, '22P02', NULL, 'release above 9');
SELECT throws_ok($$SELECT '10.1.10'::rollout_version$$, '22P02', NULL, 'modification above 9');
SELECT throws_ok($$SELECT '10.1.0.100'::rollout_version$$, '22P02', NULL, 'fix pack above 99');
SELECT throws_ok($$SELECT '1.2.3.4.5.6.7'::rollout_version$$, '22P02', NULL, 'seven parts');
SELECT throws_ok($$SELECT '10..1'::rollout_version$$, '22P02', NULL, 'empty part');

-- Casts from negative integers.
SELECT throws_ok($$SELECT (-1)::bigint::rollout_version$$, '22003',
	'value -1 is out of range for type rollout_version', 'negative bigint');
SELECT throws_ok($$SELECT (-7)::int::rollout_version$$, '22003', NULL, 'negative integer');

-- The setting uses the type's rules and codes.
SELECT throws_ok($$SET rollout.version = 'x'$$, '22P02',
	'invalid input syntax for type rollout_version: "x"', 'setting: bad syntax');
SELECT throws_ok($$SET rollout.version = '99999999999999999999'$$, '22003', NULL,
	'setting: out of range');
SELECT throws_ok($$SELECT set_config('rollout.version', '1.2.3.4.5.6.7', true)$$, '22P02', NULL,
	'set_config: too many parts');
SELECT throws_ok($$SET rollout.typo = '1'$$, '42602', NULL, 'reserved prefix');

-- Tagging: unset version fails closed with 55000 and inserts nothing.
CREATE TABLE tap_orders (id int PRIMARY KEY);
SELECT rollout_enable_tagging('tap_orders');
SET LOCAL rollout.version = '';
SELECT throws_ok($$INSERT INTO tap_orders VALUES (1)$$, '55000',
	'rollout.version is not set, so the new row of table "tap_orders" cannot be tagged',
	'unset version');
SELECT is((SELECT count(*) FROM tap_orders), 0::bigint, 'nothing inserted without a version');

-- rollout_enable_tagging argument errors.
CREATE TABLE tap_bigint (rollout_version bigint);
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_bigint')$$, '42804',
	'column "rollout_version" of relation "tap_bigint" has type bigint, not rollout_version',
	'wrong column type');
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_orders', if_unset => 'skip')$$, '22023',
	'invalid if_unset value "skip"', 'unknown if_unset');
SELECT throws_ok($$SELECT rollout_enable_tagging(NULL)$$, '22004', NULL, 'null table');
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_missing')$$, '42P01', NULL, 'missing table');
CREATE VIEW tap_view AS SELECT 1 AS id;
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_view')$$, '42809', NULL, 'a view');
CREATE TABLE tap_tasks (id int, order_id int);
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_tasks', inherit_from => 'tap_orders')$$,
	'22023', NULL, 'inherit_from without inherit_on');
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_tasks', inherit_from => 'tap_orders', inherit_on => '{nope}')$$,
	'42703', NULL, 'unknown child key column');
SELECT throws_ok($$SELECT rollout_enable_tagging('tap_tasks', inherit_from => 'tap_orders', inherit_on => '{order_id}')$$,
	'42703', 'column "order_id" of relation "tap_orders" does not exist', 'unknown parent key column');
SELECT hasnt_trigger('tap_tasks', 'rollout_tag', 'failed calls installed no trigger');

-- Misused trigger function: 39P01.
CREATE TABLE tap_misuse (id int, rollout_version rollout_version);
CREATE TRIGGER t AFTER INSERT ON tap_misuse FOR EACH ROW
	EXECUTE FUNCTION rollout_tag_trigger();
SELECT throws_ok($$INSERT INTO tap_misuse VALUES (1, '1')$$, '39P01',
	'trigger "t" on table "tap_misuse" must be a BEFORE INSERT FOR EACH ROW trigger', 'AFTER trigger');
DROP TRIGGER t ON tap_misuse;
CREATE TRIGGER t BEFORE INSERT ON tap_misuse FOR EACH ROW EXECUTE FUNCTION rollout_tag_trigger('x');
SELECT throws_ok($$INSERT INTO tap_misuse VALUES (1)$$, '39P01', NULL, 'trigger arguments');
DROP TRIGGER t ON tap_misuse;
SELECT throws_ok($$SELECT rollout_tag_trigger()$$, '39P01', NULL, 'called directly');
SELECT is((SELECT count(*) FROM tap_misuse), 0::bigint, 'misuse inserted nothing');

SELECT * FROM finish();
ROLLBACK;
