-- The type's catalog surface: what a user can rely on being there.
BEGIN;
CREATE EXTENSION IF NOT EXISTS rollout_ext;
SELECT plan(16);

SELECT has_type('rollout_version');
SELECT is((SELECT typlen FROM pg_type WHERE typname = 'rollout_version'), 8::smallint, '8 bytes');
SELECT ok((SELECT typbyval FROM pg_type WHERE typname = 'rollout_version'), 'passed by value');
SELECT has_opclass('rollout_version_ops');
SELECT has_opclass('rollout_version_hash_ops');
SELECT has_operator('rollout_version', '=', 'rollout_version', 'boolean');
SELECT has_operator('rollout_version', '<>', 'rollout_version', 'boolean');
SELECT has_operator('rollout_version', '<', 'rollout_version', 'boolean');
SELECT has_operator('rollout_version', '<=', 'rollout_version', 'boolean');
SELECT has_operator('rollout_version', '>', 'rollout_version', 'boolean');
SELECT has_operator('rollout_version', '>=', 'rollout_version', 'boolean');
SELECT has_cast('bigint', 'rollout_version');
SELECT has_cast('rollout_version', 'bigint');
SELECT volatility_is('rollout_version_in', ARRAY['cstring'], 'immutable');
SELECT volatility_is('rollout_current_version', ARRAY[]::text[], 'stable');
SELECT ok(
	(SELECT bool_and(obj_description(p.oid, 'pg_proc') IS NOT NULL)
	   FROM pg_proc p
	  WHERE p.proname IN ('rollout_enable_tagging', 'rollout_disable_tagging',
	                      'rollout_current_version', 'rollout_version_format', 'rollout_tag_trigger')),
	'public functions are documented with COMMENT ON');

SELECT * FROM finish();
ROLLBACK;
