-- pgbench, workload "claim", variants lease-floor and cycle-floor: the write a
-- claim makes to the row it leases (due date, token, claim count), by primary
-- key, on lease_floor_t; no search, no lock. The token is a constant: its
-- value costs the write nothing, and generating one is the claim's own work.
\set id random(1, 10000)
UPDATE lease_floor_t SET available_date = now() + interval '100 milliseconds',
       claim_token = '00000000-0000-4000-8000-000000000000', claim_count = claim_count + 1
 WHERE task_q_key = :id;
