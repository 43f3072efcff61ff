// Durations as histograms with fixed, log-spaced buckets, so that counts
// from many backends add up bucket by bucket, and quantiles can be estimated
// from the sums.
#pragma once

#include <cstdint>

namespace rollout {

// Bucket 0: under 1 ms. Bucket i, 1 .. 30: from 2^(i-1) ms to under 2^i ms.
// Bucket 31: 2^30 ms (about 12 days) and more.
constexpr int kHistogramBuckets = 32;

// The bucket of a duration in microseconds; negative durations count as 0.
int histogram_bucket(std::int64_t microseconds) noexcept;

// The bucket's bounds in milliseconds (the last bucket's upper bound is its
// lower bound: nothing is known above it).
double histogram_bucket_lower_ms(int bucket) noexcept;
double histogram_bucket_upper_ms(int bucket) noexcept;

// The q-quantile (0 < q <= 1) of the durations counted in `counts`, in
// milliseconds, interpolated linearly within the bucket it falls in; a
// negative value when nothing was counted.
double histogram_quantile_ms(const std::int64_t counts[kHistogramBuckets], double q) noexcept;

// How many of the durations counted in `counts` are above `ms`, assuming
// them spread evenly within each bucket (as histogram_quantile_ms does); the
// last bucket counts whole when its lower bound is at or above `ms`.
double histogram_count_above_ms(const std::int64_t counts[kHistogramBuckets], double ms) noexcept;

}  // namespace rollout
