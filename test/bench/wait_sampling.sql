-- Where the backends of one application spend their time: pg_stat_activity
-- sampled n times, pause apart, and the share of samples in each wait event
-- (in its state, "active" or "idle", when it waits for nothing). Wait events
-- are read live from each backend; clearing the statistics snapshot keeps
-- the states live too.
CREATE FUNCTION bench_wait_shares(app text, n integer, pause float8)
RETURNS TABLE (activity text, share numeric) LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMP TABLE wait_samples (activity text) ON COMMIT DROP;
	FOR i IN 1..n LOOP
		PERFORM pg_stat_clear_snapshot();
		INSERT INTO wait_samples
		SELECT coalesce(a.wait_event_type || ':' || a.wait_event, a.state)
		  FROM pg_stat_activity a
		 WHERE a.application_name = app AND a.pid <> pg_backend_pid();
		PERFORM pg_sleep(pause);
	END LOOP;
	RETURN QUERY
	SELECT s.activity, round(100.0 * count(*) / sum(count(*)) OVER (), 1)
	  FROM wait_samples s GROUP BY s.activity;
END
$$;
