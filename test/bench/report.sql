-- Summarises the runs of one benchmark session. run-bench.sh loads every
-- measured run into the temporary table runs first:
--   workload, variant, clients, batch (rows per claim; rows per insert for
--   tagging), param (queue depth), rep, tps, latency_ms, rows_per_s, metric,
--   value, note
-- and runs this file, which builds the temporary table summary and prints it.
--
-- Ratios are paired: each run is divided by its reference run of the same
-- repetition (which ran next to it), and the median of those quotients is
-- reported, so slow drifts of a noisy machine cancel out.
--   vs_hand   claim, skew, depth, soak: against the hand-written SQL (the
--             churned variants against hand-churned; the claim alone and the
--             single-write floors against hand-claim-only);
--             tagging: against the PL/pgSQL trigger (the inheriting one for
--             ours-inherit)
--   vs_floor  claim: against the single-row UPDATE by primary key;
--             tagging: against no tagging
--   metric    claim: ours-claim-only against lease-floor (what finding the
--             row adds to the write the lease needs anyway), ours against
--             cycle-floor (the same for claim + complete); ours-nostats:
--             ours' throughput over this one's, minus 1 (what counting in
--             rollout_stats costs, as a fraction; negative is lost);
--             skew: V2 claimers' claims/s over V1 claimers';
--             depth: latency over the same variant's at the smallest depth;
--             soak: consumer throughput of the last window over the first;
--             tagging: the time an insert takes over the time without
--             tagging, minus 1 (the trigger's own cost, as a fraction)
--   target    the benchmark issue's targets, on the rows they are set for

CREATE TEMP TABLE paired AS
SELECT r.*,
       CASE r.workload
         WHEN 'claim' THEN (SELECT h.tps FROM runs h WHERE h.workload = 'claim'
                             AND h.variant = CASE WHEN r.variant LIKE '%claim-only' OR r.variant IN ('floor', 'lease-floor')
                                                  THEN 'hand-claim-only'
                                                  WHEN r.variant LIKE '%churned' THEN 'hand-churned'
                                                  ELSE 'hand' END
                             AND h.clients = r.clients AND h.batch = r.batch AND h.rep = r.rep)
         WHEN 'skew' THEN (SELECT h.tps FROM runs h WHERE h.workload = 'skew'
                             AND h.variant = 'hand' || substr(r.variant, strpos(r.variant, '-'))
                             AND h.clients = r.clients AND h.rep = r.rep)
         WHEN 'depth' THEN (SELECT h.tps FROM runs h WHERE h.workload = 'depth' AND h.variant = 'hand'
                             AND h.param = r.param AND h.clients = r.clients AND h.rep = r.rep)
         WHEN 'soak' THEN (SELECT h.tps FROM runs h WHERE h.workload = 'soak' AND h.variant = 'hand'
                             AND h.rep = r.rep)
         WHEN 'tagging' THEN (SELECT h.tps FROM runs h WHERE h.workload = 'tagging'
                             AND h.variant = CASE WHEN r.variant LIKE '%inherit' THEN 'plpgsql-inherit'
                                                  ELSE 'plpgsql' END
                             AND h.clients = r.clients AND h.batch = r.batch AND h.rep = r.rep)
       END AS hand_tps,
       CASE r.workload
         WHEN 'claim' THEN (SELECT f.tps FROM runs f WHERE f.workload = 'claim' AND f.variant = 'floor'
                             AND f.clients = r.clients AND f.rep = r.rep)
         WHEN 'tagging' THEN (SELECT f.tps FROM runs f WHERE f.workload = 'tagging' AND f.variant = 'none'
                             AND f.clients = r.clients AND f.batch = r.batch AND f.rep = r.rep)
       END AS floor_tps,
       CASE
         WHEN r.workload = 'claim' AND r.variant IN ('ours-claim-only', 'ours') AND r.batch = 1 THEN
           r.tps / nullif((SELECT f.tps FROM runs f WHERE f.workload = 'claim' AND f.clients = r.clients
                            AND f.variant = CASE r.variant WHEN 'ours' THEN 'cycle-floor' ELSE 'lease-floor' END
                            AND f.rep = r.rep), 0)
         WHEN r.workload = 'claim' AND r.variant = 'ours-nostats' THEN
           (SELECT o.tps FROM runs o WHERE o.workload = 'claim' AND o.variant = 'ours'
               AND o.clients = r.clients AND o.batch = r.batch AND o.rep = r.rep) / nullif(r.tps, 0) - 1
         WHEN r.workload = 'skew' AND r.variant LIKE '%-V2' THEN
           r.tps / nullif((SELECT v.tps FROM runs v WHERE v.workload = 'skew' AND v.clients = r.clients
                            AND v.variant = replace(r.variant, '-V2', '-V1') AND v.rep = r.rep), 0)
         WHEN r.workload = 'tagging' AND r.variant <> 'none' THEN
           (SELECT f.tps FROM runs f WHERE f.workload = 'tagging' AND f.variant = 'none'
               AND f.clients = r.clients AND f.batch = r.batch AND f.rep = r.rep) / nullif(r.tps, 0) - 1
         WHEN r.workload = 'depth' THEN
           r.latency_ms / nullif((SELECT d.latency_ms FROM runs d WHERE d.workload = 'depth'
                                   AND d.variant = r.variant AND d.clients = r.clients AND d.rep = r.rep
                                 ORDER BY d.param LIMIT 1), 0)
         ELSE r.value
       END AS metric_value
  FROM runs r;

CREATE TEMP TABLE summary AS
SELECT workload, variant, clients, batch, param, count(*) AS reps,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY tps)::numeric, 1) AS median_tps,
       round(min(tps)::numeric, 1) AS min_tps,
       round(max(tps)::numeric, 1) AS max_tps,
       round((100 * (max(tps) - min(tps)) / nullif(percentile_cont(0.5) WITHIN GROUP (ORDER BY tps), 0))::numeric, 0)
         AS spread_pct,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY rows_per_s)::numeric, 0) AS rows_per_s,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)::numeric, 3) AS latency_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY tps / nullif(hand_tps, 0))::numeric, 2) AS vs_hand,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY tps / nullif(floor_tps, 0))::numeric, 2) AS vs_floor,
       CASE
         WHEN workload = 'claim' AND count(metric_value) = 0 THEN NULL
         WHEN workload = 'claim' AND variant = 'ours' THEN 'vs cycle-floor'
         WHEN workload = 'claim' AND variant = 'ours-claim-only' THEN 'vs lease-floor'
         WHEN workload = 'claim' AND variant = 'ours-nostats' THEN 'stats: ours/this - 1'
         WHEN workload = 'skew' AND variant LIKE '%-V2' THEN 'V2/V1 claims/s'
         WHEN workload = 'depth' THEN 'latency vs ' || (SELECT min(param) FROM runs WHERE workload = 'depth')
         WHEN workload = 'tagging' AND variant <> 'none' THEN 'time added vs none'
         ELSE max(metric)
       END AS metric,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY metric_value)::numeric, 2) AS metric_value,
       string_agg(DISTINCT nullif(note, ''), '; ') AS note
  FROM paired
 GROUP BY workload, variant, clients, batch, param;

-- The issue's targets, one row per bound: the row of the summary it is set
-- for (depth: at the largest depth) and the measure it bounds.
CREATE TEMP TABLE targets (workload, variant, clients, batch, largest_depth, measure, at_least, at_most) AS
VALUES ('claim', 'ours', 4, 1, false, 'vs hand', 1.25, NULL::numeric),
       ('claim', 'ours-churned', 4, 1, false, 'vs hand', 1.25, NULL),
       ('claim', 'ours-claim-only', 4, 1, false, 'vs floor', 0.9, NULL),
       ('claim', 'ours', 4, 10, false, 'vs hand', 1.1, NULL),
       ('claim', 'ours-churned', 4, 10, false, 'vs hand', 1.1, NULL),
       ('claim', 'ours-nostats', 4, 1, false, 'value', -0.02, NULL),
       ('claim', 'ours-nostats', 4, 10, false, 'value', -0.02, NULL),
       ('skew', 'ours-V2', NULL, NULL, false, 'value', 0.8, 1.2),
       ('depth', 'ours', NULL, NULL, true, 'value', NULL, 1.5),
       ('soak', 'ours', NULL, NULL, false, 'value', 0.9, NULL),
       ('tagging', 'ours', NULL, NULL, false, 'value', NULL, 0.05),
       ('tagging', 'ours', NULL, NULL, false, 'vs hand', 2, NULL);

ALTER TABLE summary ADD COLUMN target text, ADD COLUMN target_met text;
UPDATE summary s SET target = m.target, target_met = CASE WHEN m.met THEN 'yes' ELSE 'no' END
  FROM (SELECT s2.workload, s2.variant, s2.clients, s2.batch, s2.param,
               string_agg(t.measure || CASE WHEN t.at_most IS NULL THEN ' >= ' || t.at_least
                                            WHEN t.at_least IS NULL THEN ' <= ' || t.at_most
                                            ELSE ' ' || t.at_least || '..' || t.at_most END,
                          ', ' ORDER BY t.measure) AS target,
               bool_and(v.measured >= coalesce(t.at_least, v.measured)
                        AND v.measured <= coalesce(t.at_most, v.measured)) AS met
          FROM summary s2
          JOIN targets t ON t.workload = s2.workload AND t.variant = s2.variant
                        AND s2.clients = coalesce(t.clients, s2.clients) AND s2.batch = coalesce(t.batch, s2.batch)
                        AND (NOT t.largest_depth
                             OR s2.param = (SELECT max(param) FROM runs WHERE workload = 'depth'))
          CROSS JOIN LATERAL (SELECT CASE t.measure WHEN 'vs hand' THEN s2.vs_hand WHEN 'vs floor' THEN s2.vs_floor
                                                    ELSE s2.metric_value END AS measured) v
         GROUP BY 1, 2, 3, 4, 5) m
 WHERE (s.workload, s.variant, s.clients, s.batch) = (m.workload, m.variant, m.clients, m.batch)
   AND s.param IS NOT DISTINCT FROM m.param;

CREATE TEMP VIEW summary_ordered AS
SELECT * FROM summary
 ORDER BY array_position(ARRAY['claim', 'skew', 'depth', 'soak', 'tagging'], workload),
          clients, batch, CASE WHEN workload = 'depth' THEN param END,
          CASE WHEN workload = 'tagging'
               THEN array_position(ARRAY['none', 'default', 'plpgsql', 'plpgsql-bare', 'ours', 'plpgsql-inherit', 'ours-inherit'],
                                   variant)
               ELSE array_position(ARRAY['ours', 'ours-nostats', 'hand', 'ours-churned', 'hand-churned',
                                         'ours-claim-only', 'hand-claim-only', 'floor', 'lease-floor', 'cycle-floor',
                                         'ours-V1', 'ours-V2', 'hand-V1', 'hand-V2'],
                                   variant) END;

\pset footer off
\pset null ''
SELECT workload, variant, clients AS cl, batch, param AS "depth/rows",
       median_tps AS "median tps", min_tps || '-' || max_tps AS "min-max", spread_pct AS "spread%",
       rows_per_s AS "rows/s", latency_ms AS "lat ms", vs_hand AS "vs hand", vs_floor AS "vs floor",
       metric, metric_value AS value, target, target_met AS met
  FROM summary_ordered;
