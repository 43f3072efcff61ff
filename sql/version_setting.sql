-- The rollout.version setting and rollout_current_version().
-- The test clusters preload the library (shared_preload_libraries), as
-- README -> Installation recommends, so an invalid SET is refused when it is
-- made, and the old value stays (version_setting.out). Without preloading, as
-- in make installcheck against a server of your own, a SET before the first
-- load is kept as a placeholder and dropped with a warning at the load
-- (version_setting_1.out; test/tap/t/001_version_setting.pl tests both).
SET rollout.version = 'not-a-version';
SELECT rollout_current_version() IS NULL AS invalid_value_refused;
SHOW rollout.version;
SET rollout.allow_unregistered = off;
SHOW rollout.allow_unregistered;
RESET rollout.allow_unregistered;
SELECT rollout_current_version() IS NULL AS no_version_by_default;

SET rollout.version = '10.1.0.11.12.13';
SHOW rollout.version;
SELECT rollout_current_version();

SET rollout.version = 940010203;
SELECT rollout_current_version();

-- Invalid values are refused with the type's messages; the old value stays.
SET rollout.version = 'v2';
SET rollout.version = '-1';
SET rollout.version = '10.10';
SET rollout.version = '99999999999999999999';
SELECT rollout_current_version();

-- The empty string means "no version".
SET rollout.version = '';
SELECT rollout_current_version() IS NULL AS empty_means_unset;

-- Transaction-local forms, as transaction-mode poolers need.
BEGIN;
SET LOCAL rollout.version = '10.1';
SELECT rollout_current_version();
COMMIT;
SELECT rollout_current_version() IS NULL AS local_setting_gone;

BEGIN;
SELECT set_config('rollout.version', '9.4', true);
SELECT rollout_current_version();
ROLLBACK;
SELECT rollout_current_version() IS NULL AS set_config_local_gone;

SET rollout.version = '9.4';
BEGIN;
SET LOCAL rollout.version = '10.1';
SELECT rollout_current_version();
ROLLBACK;
SELECT rollout_current_version() AS session_value_restored;

RESET rollout.version;
SELECT rollout_current_version() IS NULL AS reset_clears;

-- The rollout. prefix is reserved for this extension.
SET rollout.no_such_setting = 'x';

-- rollout.version_scope = 'transaction': only a version set in the current
-- transaction counts, so a session SET leaked through a pooler is refused.
CREATE TABLE scoped (id int);
SELECT rollout_enable_tagging('scoped');
SET rollout.version_scope = 'transaction';
SET rollout.version = '9.4';
INSERT INTO scoped VALUES (1);
SELECT rollout_current_version();
BEGIN;
SET LOCAL rollout.version = '10.1';
INSERT INTO scoped VALUES (2);
COMMIT;
BEGIN;
SELECT set_config('rollout.version', '10.2', true);
INSERT INTO scoped VALUES (3);
COMMIT;
INSERT INTO scoped VALUES (4);
RESET rollout.version_scope;
INSERT INTO scoped VALUES (5);
SELECT id, rollout_version_format(rollout_version) FROM scoped ORDER BY id;
SET rollout.version_scope = 'statement';
DROP TABLE scoped;
RESET rollout.version;
