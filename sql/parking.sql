-- Attempts run out: a retry of a rollout_task_q row claimed max_attempts
-- times parks it (held, out of every claim, shown as parked in
-- rollout_backlog) until rollout_release_parked makes it due again.
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
SET rollout.claim_rescan_interval = 0;
SELECT rollout_register_version('9.4'), rollout_register_version('10.1');
SELECT rollout_define_criteria('PARK.A', lease => '1 hour', max_attempts => 2),
       rollout_define_criteria('PARK.NOLIMIT', lease => '1 hour');
SELECT criteria_id, max_attempts FROM rollout_criteria WHERE criteria_id LIKE 'PARK.%' ORDER BY 1;
BEGIN;
SET LOCAL rollout.restoring = on;
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version)
SELECT t, v || '-' || t, v::rollout_version
  FROM unnest(ARRAY['PARK.A', 'PARK.NOLIMIT']) t, unnest(ARRAY['9.4', '10.1']) v;
COMMIT;
CREATE VIEW park_rows AS
SELECT transaction_id, data_key, claim_count, hold_flag, parked_at IS NOT NULL AS parked,
       claim_token IS NOT NULL AS leased
  FROM rollout_task_q WHERE transaction_id LIKE 'PARK.%' ORDER BY transaction_id, data_key;

-- Two rounds of claim and retry per version: the first hands the rows back,
-- the second parks PARK.A's (claimed twice) and not PARK.NOLIMIT's. The
-- retry returns true either way: the token was current.
CREATE FUNCTION park_round(criteria text) RETURNS SETOF boolean LANGUAGE sql AS $$
	SELECT rollout_retry(task_q_key, claim_token, '0')
	  FROM rollout_claim(criteria, 10, as_version => '9.4')
	UNION ALL
	SELECT rollout_retry(task_q_key, claim_token, '0')
	  FROM rollout_claim(criteria, 10, as_version => '10.1')
$$;
SELECT park_round('PARK.A') AS retried, park_round('PARK.NOLIMIT') AS retried_nolimit;
SELECT park_round('PARK.A') AS retried, park_round('PARK.NOLIMIT') AS retried_nolimit;
SELECT * FROM park_rows;
-- Parked rows are not claimed, by either path.
SELECT count(*) AS claimed_direct FROM rollout_claim('PARK.A', 10, as_version => '10.1');
SET rollout.direct_claim = off;
SELECT count(*) AS claimed_statement FROM rollout_claim('PARK.A', 10, as_version => '10.1');
RESET rollout.direct_claim;
-- rollout_backlog counts them apart from held rows.
SELECT criteria_id, rollout_version_format(version) AS version, ready, claimed, held, parked
  FROM rollout_backlog WHERE criteria_id LIKE 'PARK.%';

-- Releasing one version, then the rest; attempts start again from zero.
SELECT rollout_release_parked('PARK.A', '10.1') AS released_v2;
SELECT * FROM park_rows WHERE transaction_id = 'PARK.A';
SELECT rollout_release_parked('PARK.A') AS released_rest, rollout_release_parked('PARK.A') AS again;
SELECT count(*) AS claimable_again FROM rollout_claim('PARK.A', 10, as_version => '9.4');

-- rollout_retry_rows of a rollout_task_q criteria parks too.
UPDATE rollout_task_q SET claim_count = 1, claim_token = NULL, available_date = now()
 WHERE transaction_id = 'PARK.A';
SELECT rollout_retry_rows('PARK.A', task_q_key::text, claim_token, '0') AS retried_rows
  FROM rollout_claim('PARK.A', 10, as_version => '10.1');
SELECT * FROM park_rows WHERE transaction_id = 'PARK.A';

-- A held row is not a parked one, and release leaves it held.
INSERT INTO rollout_task_q (transaction_id, data_key, rollout_version, hold_flag)
VALUES ('PARK.A', 'held', '9.4', true);
SELECT rollout_release_parked('PARK.A') AS released;
SELECT criteria_id, rollout_version_format(version) AS version, ready, held, parked
  FROM rollout_backlog WHERE criteria_id = 'PARK.A';

-- Redefining keeps the limit; 0 removes it.
SELECT rollout_define_criteria('PARK.A', batch_size => 7);
SELECT max_attempts FROM rollout_criteria WHERE criteria_id = 'PARK.A';
SELECT rollout_define_criteria('PARK.A', max_attempts => 0);
SELECT max_attempts FROM rollout_criteria WHERE criteria_id = 'PARK.A';

-- Bad input.
SELECT rollout_define_criteria('PARK.A', max_attempts => -1);
CREATE TABLE park_driver (id bigint PRIMARY KEY, due timestamptz, rollout_version rollout_version);
SELECT rollout_define_criteria('PARK.DRIVER', queue_table => 'park_driver', key_column => 'id',
                               due_column => 'due', max_attempts => 3);
SELECT count(*) AS driver_criteria FROM rollout_criteria WHERE criteria_id = 'PARK.DRIVER';
SELECT rollout_release_parked('PARK.MISSING');
SELECT rollout_release_parked(NULL);

DROP FUNCTION park_round(text);
DROP VIEW park_rows;
DROP TABLE park_driver;
DELETE FROM rollout_task_q WHERE transaction_id LIKE 'PARK.%';
SELECT count(rollout_drop_criteria(criteria_id)) FROM rollout_criteria WHERE criteria_id LIKE 'PARK.%';
