// What each version's rows went through, from rollout_stats (the library is
// preloaded in make demo): claims, completions, failures (retries, parked
// rows and expired leases), the failure rate and the work time p95, with the
// histograms of a version's keys summed bucket by bucket.
#pragma once

namespace demo {

// Columns: version, claimed, completed, failed, failure rate in %, work p95.
constexpr const char *kOutcomesSql = R"(
WITH k AS (SELECT * FROM rollout_stats WHERE version IS NOT NULL),
buckets AS (SELECT k.version, u.b, sum(u.n)::bigint AS n
              FROM k, unnest(k.work_time) WITH ORDINALITY AS u(n, b) GROUP BY 1, 2)
SELECT k.version::text, sum(k.claimed), sum(k.completed), sum(k.retried + k.parked + k.expired),
       coalesce(round(100.0 * sum(k.retried + k.parked + k.expired)
                      / nullif(sum(k.completed + k.retried + k.parked + k.expired), 0), 1)::text, '-'),
       coalesce(round(extract(epoch FROM (
                SELECT rollout_histogram_quantile(array_agg(b.n ORDER BY b.b), 0.95)
                  FROM buckets b WHERE b.version = k.version)) * 1000)::text || ' ms', '-')
  FROM k GROUP BY k.version ORDER BY 1)";

}  // namespace demo
