#include "histogram.hpp"

#include "cpp_only.hpp"  // last: checks that nothing above pulled in PostgreSQL

namespace rollout {

int histogram_bucket(std::int64_t microseconds) noexcept
{
	if (microseconds < 1000)
		return 0;
	std::int64_t ms = microseconds / 1000;
	int bucket = 1;
	while (ms > 1 && bucket < kHistogramBuckets - 1) {
		ms >>= 1;
		++bucket;
	}
	return bucket;
}

double histogram_bucket_lower_ms(int bucket) noexcept
{
	return bucket <= 0 ? 0.0 : static_cast<double>(std::int64_t{1} << (bucket - 1));
}

double histogram_bucket_upper_ms(int bucket) noexcept
{
	if (bucket >= kHistogramBuckets - 1)
		return histogram_bucket_lower_ms(kHistogramBuckets - 1);
	return static_cast<double>(std::int64_t{1} << bucket);
}

double histogram_quantile_ms(const std::int64_t counts[kHistogramBuckets], double q) noexcept
{
	std::int64_t total = 0;
	for (int i = 0; i < kHistogramBuckets; ++i)
		total += counts[i];
	if (total <= 0)
		return -1.0;
	const double rank = q * static_cast<double>(total);
	double below = 0;
	for (int i = 0; i < kHistogramBuckets; ++i) {
		if (counts[i] == 0)
			continue;
		const double in_bucket = static_cast<double>(counts[i]);
		if (below + in_bucket >= rank) {
			const double fraction = (rank - below) / in_bucket;
			const double lower = histogram_bucket_lower_ms(i);
			return lower + fraction * (histogram_bucket_upper_ms(i) - lower);
		}
		below += in_bucket;
	}
	return histogram_bucket_lower_ms(kHistogramBuckets - 1);
}

double histogram_count_above_ms(const std::int64_t counts[kHistogramBuckets], double ms) noexcept
{
	double above = 0;
	for (int i = 0; i < kHistogramBuckets; ++i) {
		const double lower = histogram_bucket_lower_ms(i);
		const double upper = histogram_bucket_upper_ms(i);
		const double n = static_cast<double>(counts[i]);
		if (lower >= ms)
			above += n;
		else if (upper > ms)
			above += n * (upper - ms) / (upper - lower);
	}
	return above;
}

}  // namespace rollout
