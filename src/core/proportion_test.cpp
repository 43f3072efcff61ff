#include "proportion_test.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rollout {

namespace {

double log_choose(double n, double k)
{
	return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
}

// P(X >= a) for X hypergeometric: n1 draws from n rows of which k failed.
double hypergeometric_upper_tail(std::int64_t a, std::int64_t n1, std::int64_t k, std::int64_t n)
{
	const std::int64_t highest = std::min(n1, k);
	const double log_total = log_choose(double(n), double(n1));
	// Terms summed relative to the largest, so that none underflows to 0
	// before it is added.
	double largest = -std::numeric_limits<double>::infinity();
	for (std::int64_t x = a; x <= highest; ++x)
		largest = std::max(largest, log_choose(double(k), double(x)) +
		                                log_choose(double(n - k), double(n1 - x)));
	double sum = 0;
	for (std::int64_t x = a; x <= highest; ++x)
		sum += std::exp(log_choose(double(k), double(x)) +
		                log_choose(double(n - k), double(n1 - x)) - largest);
	return std::min(1.0, std::exp(largest - log_total) * sum);
}

double pooled_z_upper_tail(std::int64_t a, std::int64_t n1, std::int64_t c, std::int64_t n2)
{
	const double p1 = double(a) / double(n1);
	const double p2 = double(c) / double(n2);
	const double pooled = double(a + c) / double(n1 + n2);
	const double spread = std::sqrt(pooled * (1 - pooled) * (1.0 / double(n1) + 1.0 / double(n2)));
	if (spread == 0)
		return p1 > p2 ? 0.0 : 1.0;
	return 0.5 * std::erfc((p1 - p2) / spread / std::sqrt(2.0));
}

}  // namespace

double failure_worse_p_value(std::int64_t target_failed, std::int64_t target_finished,
                             std::int64_t base_failed, std::int64_t base_finished) noexcept
{
	if (target_failed < 0 || base_failed < 0 || target_failed > target_finished ||
	    base_failed > base_finished)
		return std::numeric_limits<double>::quiet_NaN();
	if (target_finished == 0 || base_finished == 0 || target_failed == 0)
		return 1.0;
	const std::int64_t failures = target_failed + base_failed;
	const std::int64_t rows = target_finished + base_finished;
	if (std::min(target_finished, failures) - target_failed + 1 > kExactTerms)
		return pooled_z_upper_tail(target_failed, target_finished, base_failed, base_finished);
	return hypergeometric_upper_tail(target_failed, target_finished, failures, rows);
}

}  // namespace rollout
