-- Set-up of a queue benchmark database (claim, skew, depth, soak): the
-- extension with its rollout_task_q, the hand-written baseline hand_q, the
-- floor table, and helpers that seed and reset the queues between runs.
SET client_min_messages = warning;
CREATE EXTENSION rollout_ext;

-- Agents of BENCH.0001 lease for the default 5 minutes; BENCH.DEPTH reads the
-- same rows with a 100 ms lease, for claim-only runs that keep their depth.
SELECT rollout_define_criteria('BENCH.0001', lease => '5 minutes');
SELECT rollout_define_criteria('BENCH.DEPTH', transaction_id => 'BENCH.0001', lease => '100 milliseconds');

-- The hand-written baseline: rollout_task_q's columns, defaults, identity,
-- primary key and partial indexes, copied rather than restated (run-bench.sh
-- still compares the two shapes); LIKE copies no trigger.
CREATE TABLE hand_q (LIKE rollout_task_q INCLUDING ALL);

-- The floor: a small table updated by primary key.
CREATE TABLE floor_t (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO floor_t (id) SELECT generate_series(1, 10000);

-- The lease floor: the row write a claim must make, with the search for the
-- row given away. A table of rollout_task_q's shape, as small as floor_t,
-- whose rows lease_floor.sql leases by primary key. Moving the due date makes
-- the update non-HOT, so it writes an entry in every index, as a claim does.
CREATE TABLE lease_floor_t (LIKE rollout_task_q INCLUDING ALL);
INSERT INTO lease_floor_t (task_q_key, transaction_id, data_key, rollout_version, available_date)
SELECT g, 'BENCH.0001', 'K' || g, CASE WHEN g % 2 = 0 THEN '9.4' ELSE '10.1' END::rollout_version,
       now() - interval '1 minute' + g * interval '1 microsecond'
  FROM generate_series(1, 10000) g;

-- A table's shape: columns (type, nullability, identity, default), constraints
-- and indexes, with the table's and indexes' own names left out.
CREATE FUNCTION bench_table_shape(tbl regclass) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT concat_ws(E'\n',
		(SELECT string_agg(format('%s %s%s%s%s', a.attname, format_type(a.atttypid, a.atttypmod),
		                          CASE WHEN a.attnotnull THEN ' not null' END,
		                          CASE a.attidentity WHEN 'd' THEN ' identity by default'
		                                             WHEN 'a' THEN ' identity always' END,
		                          ' default ' || pg_get_expr(d.adbin, d.adrelid)), ', ' ORDER BY a.attnum)
		   FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		  WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped),
		-- NOT NULL is in the columns above; 18 also lists it as constraints
		-- (contype n), named after each table.
		(SELECT string_agg(format('%s %s', c.contype, pg_get_constraintdef(c.oid)), ', ' ORDER BY 1)
		   FROM pg_constraint c WHERE c.conrelid = tbl AND c.contype <> 'n'),
		(SELECT string_agg(regexp_replace(pg_get_indexdef(i.indexrelid),
		                                  '^CREATE (UNIQUE )?INDEX \S+ ON \S+ ', 'CREATE \1INDEX ON t '),
		                   ', ' ORDER BY 1)
		   FROM pg_index i WHERE i.indrelid = tbl))
$$;

-- Brings the due rows of one version back to target: leases left over by a
-- run are ended, missing rows are added after the existing ones. Returns the
-- number of rows added.
CREATE FUNCTION bench_refill(tbl regclass, ver rollout_version, target bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	have bigint;
	missing bigint;
BEGIN
	-- The transaction keeps this to an index range: a 10M-row queue is not read whole.
	EXECUTE format('UPDATE %s SET available_date = now() - interval ''1 minute'', claim_token = NULL
	                 WHERE transaction_id = ''BENCH.0001'' AND available_date > now()
	                   AND rollout_version = $1', tbl) USING ver;
	EXECUTE format('SELECT count(*) FROM %s WHERE transaction_id = ''BENCH.0001'' AND rollout_version = $1',
	               tbl) INTO have USING ver;
	missing := greatest(target - have, 0);
	EXECUTE format('INSERT INTO %s (transaction_id, data_key, rollout_version, available_date)
	                SELECT ''BENCH.0001'', ''K'' || g, $1, now() - interval ''1 minute'' + g * interval ''1 microsecond''
	                  FROM generate_series(1, $2) g', tbl) USING ver, missing;
	RETURN missing;
END
$$;

-- Fills an empty queue with due rows of both versions, as bench_refill adds
-- them, but with the indexes other than the primary key built after the
-- insert instead of maintained row by row: a 10M-row queue fills in a third
-- less time. The indexes come back with their names and definitions.
CREATE FUNCTION bench_fill(tbl regclass, v1_rows bigint, v2_rows bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	definitions text[];
	definition text;
BEGIN
	SELECT array_agg(pg_get_indexdef(i.indexrelid)) INTO definitions
	  FROM pg_index i WHERE i.indrelid = tbl AND NOT i.indisprimary;
	EXECUTE (SELECT 'DROP INDEX ' || string_agg(i.indexrelid::regclass::text, ', ')
	           FROM pg_index i WHERE i.indrelid = tbl AND NOT i.indisprimary);
	PERFORM bench_refill(tbl, '9.4', v1_rows), bench_refill(tbl, '10.1', v2_rows);
	FOREACH definition IN ARRAY definitions LOOP
		EXECUTE definition;
	END LOOP;
END
$$;

-- The fewest due rows left to any version after a run, counted up to 1000
-- (0: the queue ran dry), so that a deep queue is not counted whole.
CREATE FUNCTION bench_min_due(tbl regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	fewest bigint;
BEGIN
	EXECUTE format('SELECT min(n) FROM unnest(ARRAY[''9.4'', ''10.1'']::rollout_version[]) v,
	                LATERAL (SELECT count(*) AS n FROM (SELECT FROM %s q
	                          WHERE q.transaction_id = ''BENCH.0001'' AND q.rollout_version = v
	                            AND q.available_date <= now() AND NOT q.hold_flag LIMIT 1000) due) c',
	               tbl) INTO fewest;
	RETURN fewest;
END
$$;

-- The state of a busy queue between two autovacuum passes: the n oldest due
-- rows of a version were claimed and completed since the last VACUUM, so
-- their index entries are still there, dead, ahead of every live row. (The
-- default autovacuum_vacuum_scale_factor of 0.2 lets a queue reach a fifth of
-- its size in dead rows; this is half that.) Deleted rows are replaced at the
-- end, so the depth stays.
CREATE FUNCTION bench_churn(tbl regclass, ver rollout_version, n bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	depth bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s WHERE transaction_id = ''BENCH.0001'' AND rollout_version = $1',
	               tbl) INTO depth USING ver;
	EXECUTE format('DELETE FROM %1$s WHERE task_q_key IN (
	                  SELECT task_q_key FROM %1$s
	                   WHERE transaction_id = ''BENCH.0001'' AND rollout_version = $1
	                   ORDER BY available_date, task_q_key LIMIT $2)', tbl) USING ver, n;
	RETURN bench_refill(tbl, ver, depth);
END
$$;
