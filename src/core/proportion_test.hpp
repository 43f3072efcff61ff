// Is the target's failure proportion higher than the base's? The one-sided
// test the progressive rollout's gate asks before it aborts, so that one
// unlucky retry among a few rows does not stop a rollout and a real
// regression does not pass for want of a threshold.
#pragma once

#include <cstdint>

namespace rollout {

// The one-sided p-value of "the target fails more often than the base":
// the probability, if both failed alike, of the target having at least
// `target_failed` failures among its `target_finished` rows, given the
// failures of both together. Fisher's exact test (the hypergeometric tail);
// where that tail has more than kExactTerms terms, the two-proportion z-test
// with a pooled proportion, which agrees with it at such counts.
// 1 when either side finished nothing or the target failed nothing; NaN when
// a count is negative or failures exceed finished rows.
double failure_worse_p_value(std::int64_t target_failed, std::int64_t target_finished,
                             std::int64_t base_failed, std::int64_t base_finished) noexcept;

constexpr std::int64_t kExactTerms = 100000;

}  // namespace rollout
