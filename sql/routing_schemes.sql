-- Routing schemes: how a key maps to the base or the target version, so that
-- the load balancer in front of the servers can compute the same thing
-- (test/loadbalancer runs the real nginx and HAProxy against this).
CREATE EXTENSION IF NOT EXISTS rollout_ext;
\set SHOW_CONTEXT never
CREATE TEMP TABLE saved_ramp AS SELECT * FROM rollout_ramp;
DELETE FROM rollout_ramp;

-- Buckets under each scheme, from the published vectors: nginx's MurmurHash2
-- of "order-12345" is 2422026799, whose smallest split_clients percentage is
-- 56.40%; its CRC-32 is 3113283067 (mod 10000: 3067).
SELECT rollout_route_bucket('order-12345', 'murmur3') AS murmur3,
       rollout_route_bucket('order-12345', 'nginx') AS nginx,
       rollout_route_bucket('order-12345', 'haproxy') AS haproxy,
       rollout_route_bucket('', 'nginx') AS nginx_empty,
       rollout_route_bucket('123456789', 'haproxy') AS haproxy_check_value;
SELECT rollout_route_bucket('order-12345', 'envoy');
-- Without a ramp, the one-argument form is murmur3's.
SELECT rollout_route_bucket('order-12345') AS no_ramp;

-- A ramp with a scheme; rollout_route and the bucket follow it.
SELECT rollout_set_ramp('9.4', '10.1', 56.40, scheme => 'nginx');
SELECT scheme, percent FROM rollout_ramp;
SELECT rollout_route_bucket('order-12345') AS nginx_bucket,
       rollout_version_format(rollout_route('order-12345')) AS at_56_40;
SELECT rollout_set_ramp('9.4', '10.1', 56.41);
SELECT scheme AS kept_by_three_arguments FROM rollout_ramp;
SELECT rollout_version_format(rollout_route('order-12345')) AS at_56_41;

-- For every scheme, rollout_route sends a key to the target exactly when its
-- bucket is below the ramp, and raising the ramp only adds keys.
CREATE TEMP TABLE route_keys AS
SELECT 'K-' || g || repeat('x', g % 7) AS k FROM generate_series(1, 3000) g;
CREATE FUNCTION pg_temp.routed(scheme text, percent numeric) RETURNS TABLE (k text, to_target boolean)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM rollout_set_ramp('9.4', '10.1', 0, scheme => scheme);
	PERFORM rollout_set_ramp('9.4', '10.1', percent);
	RETURN QUERY SELECT r.k, rollout_route(r.k) = '10.1' FROM route_keys r;
END
$$;
SELECT s AS scheme,
       (SELECT count(*) FROM pg_temp.routed(s, 25) r
         WHERE r.to_target <> (rollout_route_bucket(r.k, s) < 2500)) AS bucket_disagrees,
       (SELECT count(*) FROM pg_temp.routed(s, 25) a JOIN pg_temp.routed(s, 60) b USING (k)
         WHERE a.to_target AND NOT b.to_target) AS moved_back,
       (SELECT count(*) FILTER (WHERE to_target) FROM pg_temp.routed(s, 100)) AS at_100,
       (SELECT count(*) FILTER (WHERE to_target) FROM pg_temp.routed(s, 0)) AS at_0
  FROM unnest(ARRAY['murmur3', 'nginx', 'haproxy']) s;

-- The routing trigger follows the scheme too.
CREATE TABLE routed_orders (order_key text PRIMARY KEY);
SELECT rollout_enable_tagging('routed_orders', route_by => 'order_key');
SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => 'haproxy');
SELECT rollout_set_ramp('9.4', '10.1', 30);
INSERT INTO routed_orders SELECT k FROM route_keys;
SELECT count(*) AS tagged_as_routed FROM routed_orders WHERE rollout_version = rollout_route(order_key);
DROP TABLE routed_orders;

-- Another scheme deals the keys anew, so a step from part way through a ramp
-- to part way through it is refused; one to or from 0 or 100 percent is a
-- plain step and takes the new scheme.
SELECT rollout_set_ramp('9.4', '10.1', 40, scheme => 'nginx');
SELECT scheme, percent FROM rollout_ramp;
SELECT rollout_set_ramp('9.4', '10.1', 100, scheme => 'nginx');
SELECT rollout_set_ramp('9.4', '10.1', 40, scheme => 'murmur3');
SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => 'Nginx');
SELECT detail ->> 'scheme' AS scheme, detail ->> 'previous_scheme' AS previous_scheme,
       detail ->> 'percent' AS percent
  FROM rollout_audit WHERE action = 'set_ramp' ORDER BY audit_id DESC LIMIT 2;

-- The load balancer's configuration, for the current ramp or a planned one.
SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => 'nginx');
SELECT rollout_set_ramp('9.4', '10.1', 10.5);
SELECT rollout_lb_config('nginx', '$http_x_order_key', 'v1', 'v2');
SELECT rollout_lb_config('nginx', '$http_x_order_key', 'v1', 'v2', percent => 0);
SELECT rollout_lb_config('nginx', '$http_x_order_key', 'v1', 'v2', percent => 100);
-- The other load balancer cannot compute this ramp's scheme.
SELECT rollout_lb_config('haproxy', 'req.fhdr(x-order-key)', 'v1', 'v2');
SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => 'haproxy');
SELECT scheme, percent FROM rollout_ramp;
SELECT rollout_lb_config('haproxy', 'req.fhdr(x-order-key)', 'app_v1', 'app_v2', percent => 37.5);
SELECT rollout_lb_config('haproxy', 'req.fhdr(x-order-key)', 'app_v1', 'app_v2');
-- Nothing that could end a directive gets into the configuration.
SELECT rollout_lb_config('envoy', 'x', 'v1', 'v2');
SELECT rollout_lb_config('haproxy', 'req.fhdr(x-order-key); use_backend evil', 'v1', 'v2');
SELECT rollout_lb_config('haproxy', 'req.fhdr(x-order-key)', 'v1 if TRUE', 'v2');
SELECT rollout_lb_config('haproxy', 'req.fhdr(x-order-key)', 'v1', NULL);
SELECT rollout_set_ramp('9.4', '10.1', 0, scheme => 'nginx');
SELECT rollout_lb_config('nginx', 'http_x_order_key', 'v1', 'v2');
SELECT rollout_lb_config('nginx', '$http_x_order_key', 'v1', 'v2', percent => 10.001);
DELETE FROM rollout_ramp;
SELECT rollout_lb_config('nginx', '$http_x_order_key', 'v1', 'v2');

INSERT INTO rollout_ramp SELECT * FROM saved_ramp;
