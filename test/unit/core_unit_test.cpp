// Unit tests of the pure C++ core (versions, routing, histograms and the
// gate's proportion test), without PostgreSQL. Prints "unit: N passed, N failed".
#include "histogram.hpp"
#include "proportion_test.hpp"
#include "routing.hpp"
#include "version.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

using rollout::ParseStatus;
using rollout::Version;

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, const std::string &what)
{
	if (ok) {
		++passed;
	} else {
		++failed;
		std::printf("FAIL: %s\n", what.c_str());
	}
}

const char *status_name(ParseStatus s)
{
	switch (s) {
	case ParseStatus::ok: return "ok";
	case ParseStatus::empty: return "empty";
	case ParseStatus::invalid_character: return "invalid_character";
	case ParseStatus::out_of_range: return "out_of_range";
	case ParseStatus::part_out_of_range: return "part_out_of_range";
	case ParseStatus::too_many_parts: return "too_many_parts";
	case ParseStatus::empty_part: return "empty_part";
	}
	return "?";
}

rollout::ParseResult parse(const char *text)
{
	return rollout::parse_version(text, std::strlen(text));
}

void expect_value(const char *text, Version expected)
{
	const auto r = parse(text);
	check(r.status == ParseStatus::ok && r.value == expected,
	      std::string("parse(\"") + text + "\") = " + std::to_string(expected) + ", got " +
	          status_name(r.status) + " " + std::to_string(r.value));
}

void expect_status(const char *text, ParseStatus expected)
{
	const auto r = parse(text);
	check(r.status == expected, std::string("parse(\"") + text + "\") fails with " +
	                                status_name(expected) + ", got " + status_name(r.status));
}

void expect_dotted(Version v, const char *expected)
{
	char buf[rollout::kDottedBufferSize];
	const std::size_t n = rollout::format_dotted(v, buf);
	check(std::strcmp(buf, expected) == 0 && n == std::strlen(expected),
	      "format_dotted(" + std::to_string(v) + ") = " + expected + ", got " + buf);
}

bool round_trips(Version v)
{
	char dotted[rollout::kDottedBufferSize];
	char numeric[rollout::kNumericBufferSize];
	rollout::format_dotted(v, dotted);
	rollout::format_numeric(v, numeric);
	const auto from_dotted = parse(dotted);
	const auto from_numeric = parse(numeric);
	return from_dotted.status == ParseStatus::ok && from_dotted.value == v &&
	       from_numeric.status == ParseStatus::ok && from_numeric.value == v &&
	       std::to_string(v) == numeric;
}

}  // namespace

int main()
{
	// The reference system's examples.
	expect_value("1010111213", 1010111213);
	expect_value("10.1.0.11.12.13", 1010111213);
	expect_value("9.4.0.1.2.3", 940010203);
	expect_value("10.1", 1010000000);
	expect_value("10.1.0", 1010000000);
	expect_value("0", 0);
	expect_value("0.0", 0);
	expect_value("9223372036854775807", rollout::kMaxVersion);
	expect_value("00000000000000000000042", 42);
	expect_value("  42\t\n", 42);
	expect_value(" 10.1.0.11 ", 1010110000);
	expect_value("92233720368.5.4.77.58.07", rollout::kMaxVersion);
	expect_value("10.09.9.99.99.99", 1099999999);

	expect_status("", ParseStatus::empty);
	expect_status("   \t", ParseStatus::empty);
	expect_status("-1", ParseStatus::invalid_character);
	expect_status("+1", ParseStatus::invalid_character);
	expect_status("1 0", ParseStatus::invalid_character);
	expect_status("10.1 .0", ParseStatus::invalid_character);
	expect_status("abc", ParseStatus::invalid_character);
	expect_status("1e5", ParseStatus::invalid_character);
	expect_status("0x10", ParseStatus::invalid_character);
	expect_status("9223372036854775808", ParseStatus::out_of_range);
	expect_status("99999999999999999999999", ParseStatus::out_of_range);
	expect_status("92233720368.5.4.77.58.08", ParseStatus::out_of_range);
	expect_status("92233720369.0", ParseStatus::out_of_range);
	expect_status("10.10", ParseStatus::part_out_of_range);
	expect_status("10.1.10", ParseStatus::part_out_of_range);
	expect_status("10.1.0.100", ParseStatus::part_out_of_range);
	expect_status("10.1.0.1.1.100", ParseStatus::part_out_of_range);
	expect_status("10.1.0.1.99999999999999999999999", ParseStatus::part_out_of_range);
	expect_status("1.2.3.4.5.6.7", ParseStatus::too_many_parts);
	expect_status("10..1", ParseStatus::empty_part);
	expect_status("10.", ParseStatus::empty_part);
	expect_status(".1", ParseStatus::empty_part);
	expect_status(".", ParseStatus::empty_part);

	// An error's part number points at the offending part.
	check(parse("10.1.10").bad_part == 3, "bad_part of 10.1.10 is 3");
	check(parse("10..1").bad_part == 2, "bad_part of 10..1 is 2");

	// A NUL inside the length is a character, not a terminator.
	check(rollout::parse_version("12\0" "3", 4).status == ParseStatus::invalid_character,
	      "embedded NUL is rejected");

	expect_dotted(1010111213, "10.1.0.11.12.13");
	expect_dotted(940010203, "9.4.0.1.2.3");
	expect_dotted(0, "0.0.0.0.0.0");
	expect_dotted(rollout::kMaxVersion, "92233720368.5.4.77.58.7");

	for (Version v : {Version(0), Version(1), Version(99), Version(100000000),
	                  Version(1010111213), rollout::kMaxVersion, rollout::kMaxVersion - 1})
		check(round_trips(v), "round trip of " + std::to_string(v));
	std::uint64_t state = 0x9E3779B97F4A7C15ull;
	int random_failures = 0;
	for (int i = 0; i < 100000; ++i) {
		state = state * 6364136223846793005ull + 1442695040888963407ull;
		random_failures += !round_trips(static_cast<Version>(state >> 1) >> (i % 63));
	}
	check(random_failures == 0, "round trip of 100000 pseudo-random versions");

	check(rollout::compare_versions(1, 2) < 0, "1 < 2");
	check(rollout::compare_versions(2, 1) > 0, "2 > 1");
	check(rollout::compare_versions(rollout::kMaxVersion, 0) > 0, "max > 0");
	check(rollout::compare_versions(7, 7) == 0, "7 == 7");

	for (auto s : {ParseStatus::empty, ParseStatus::invalid_character, ParseStatus::out_of_range,
	               ParseStatus::part_out_of_range, ParseStatus::too_many_parts,
	               ParseStatus::empty_part}) {
		const char *detail = rollout::parse_status_detail(s);
		const std::size_t n = std::strlen(detail);
		check(n > 0 && detail[n - 1] == '.' && detail[0] >= 'A' && detail[0] <= 'Z',
		      std::string("detail for ") + status_name(s) + " is a sentence");
	}

	// MurmurHash3 x86_32 reference vectors.
	check(rollout::murmur3_32("", 0, 0) == 0, "murmur3(\"\", 0) = 0");
	check(rollout::murmur3_32("", 0, 1) == 0x514E28B7u, "murmur3(\"\", 1)");
	check(rollout::murmur3_32("hello", 5, 0) == 0x248BFA47u, "murmur3(hello)");
	check(rollout::murmur3_32("The quick brown fox jumps over the lazy dog", 43, 0) == 0x2E4FF723u,
	      "murmur3(quick brown fox)");
	check(rollout::murmur3_32("\xff\xff\xff\xff", 4, 0) == 0x76293B50u, "murmur3(ffffffff)");

	// nginx's MurmurHash2 and split_clients limits, from nginx's own code
	// (shared/context/progressive-delivery.md).
	const struct {
		const char *key;
		std::uint32_t hash;
	} murmur2_vectors[] = {{"", 0u},
	                       {"a", 2456313694u},
	                       {"abc", 324500635u},
	                       {"test", 403862830u},
	                       {"order-12345", 2422026799u}};
	for (const auto &v : murmur2_vectors)
		check(rollout::murmur2_32(v.key, std::strlen(v.key)) == v.hash,
		      std::string("murmur2(\"") + v.key + "\") = " + std::to_string(v.hash));
	check(rollout::nginx_split_limit(1000) == 429496729u, "nginx limit at 10%");
	check(rollout::nginx_split_limit(50) == 21474836u, "nginx limit at 0.5%");
	check(rollout::nginx_split_limit(1) == 429496u, "nginx limit at 0.01%");

	// IEEE CRC-32 check values (zlib's crc32, HAProxy's crc32 converter).
	check(rollout::crc32_ieee("123456789", 9) == 0xCBF43926u, "crc32(123456789)");
	check(rollout::crc32_ieee("", 0) == 0u, "crc32(\"\") = 0");
	check(rollout::crc32_ieee("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u,
	      "crc32(quick brown fox)");

	// Scheme names.
	check(rollout::parse_routing_scheme("nginx") == rollout::RoutingScheme::nginx &&
	          rollout::parse_routing_scheme("haproxy") == rollout::RoutingScheme::haproxy &&
	          rollout::parse_routing_scheme("murmur3") == rollout::RoutingScheme::murmur3 &&
	          !rollout::parse_routing_scheme("Nginx") && !rollout::parse_routing_scheme(""),
	      "scheme names parse exactly");

	// Every scheme's bucket decides as its load balancer does, at every ramp
	// tried, and raising a ramp only moves keys from base to target.
	const std::uint32_t ramps[] = {0, 1, 50, 100, 1000, 3750, 5000, 9999, 10000};
	bool agrees = true;
	bool scheme_monotone = true;
	for (int i = 0; i < 20000; ++i) {
		std::string key = "K-" + std::to_string(i) + std::string(i % 7, 'x');
		const std::uint32_t mm2 = rollout::murmur2_32(key.data(), key.size());
		const std::uint32_t crc = rollout::crc32_ieee(key.data(), key.size());
		for (auto scheme : {rollout::RoutingScheme::murmur3, rollout::RoutingScheme::nginx,
		                    rollout::RoutingScheme::haproxy}) {
			const std::uint32_t bucket = rollout::routing_bucket(scheme, key.data(), key.size());
			bool previous = false;
			for (std::uint32_t p : ramps) {
				const bool target = rollout::routes_to_target(bucket, p);
				scheme_monotone &= !previous || target;
				previous = target;
				if (scheme == rollout::RoutingScheme::nginx && p < 10000)
					agrees &= target == (mm2 < rollout::nginx_split_limit(p));
				if (scheme == rollout::RoutingScheme::haproxy)
					agrees &= target == (crc % 10000 < p);
			}
		}
	}
	check(agrees, "nginx and haproxy buckets decide as the load balancers do at every ramp");
	check(scheme_monotone, "raising a ramp only moves keys to the target, under every scheme");
	// The hashes at the very top: nginx sends them to "*" below 100%.
	check(rollout::routing_bucket(rollout::RoutingScheme::nginx, "", 0) == 0,
	      "nginx bucket of \"\" (hash 0) is 0");

	// Buckets are uniform enough for a 10% ramp to send 10% +- 0.5% of keys,
	// and raising the ramp only adds keys.
	int at10 = 0;
	bool monotone = true;
	for (int i = 0; i < 100000; ++i) {
		const std::string key = "ORDER-" + std::to_string(i);
		const std::uint32_t bucket = rollout::routing_bucket(key.data(), key.size());
		monotone &= bucket < rollout::kRoutingBuckets;
		const bool t10 = rollout::routes_to_target(bucket, 1000);
		const bool t50 = rollout::routes_to_target(bucket, 5000);
		monotone &= !t10 || t50;
		monotone &= !rollout::routes_to_target(bucket, 0);
		monotone &= rollout::routes_to_target(bucket, 10000);
		at10 += t10;
	}
	check(at10 >= 9500 && at10 <= 10500, "10% ramp routes " + std::to_string(at10) + " of 100000");
	check(monotone, "ramps are monotone and 0%/100% are absolute");

	// Histogram buckets: under 1 ms, then powers of two in ms.
	check(rollout::histogram_bucket(-5) == 0 && rollout::histogram_bucket(999) == 0,
	      "durations under 1 ms are bucket 0");
	check(rollout::histogram_bucket(1000) == 1 && rollout::histogram_bucket(1999) == 1 &&
	          rollout::histogram_bucket(2000) == 2 && rollout::histogram_bucket(3999) == 2 &&
	          rollout::histogram_bucket(4000) == 3,
	      "bucket i holds [2^(i-1), 2^i) ms");
	check(rollout::histogram_bucket(INT64_MAX) == rollout::kHistogramBuckets - 1,
	      "the last bucket takes everything above");
	bool bounds_hold = true;
	for (std::int64_t us : {0LL, 1500LL, 70000LL, 5000000LL, 86400000000LL}) {
		const int b = rollout::histogram_bucket(us);
		const double ms = static_cast<double>(us) / 1000.0;
		bounds_hold &= rollout::histogram_bucket_lower_ms(b) <= ms &&
		               (b == rollout::kHistogramBuckets - 1 || ms < rollout::histogram_bucket_upper_ms(b));
	}
	check(bounds_hold, "a duration lies within its bucket's bounds");
	std::int64_t counts[rollout::kHistogramBuckets] = {};
	check(rollout::histogram_quantile_ms(counts, 0.5) < 0, "no samples: no quantile");
	counts[rollout::histogram_bucket(1500)] = 100;  // 100 samples in [1, 2) ms
	check(rollout::histogram_quantile_ms(counts, 0.5) == 1.5, "median interpolated within its bucket");
	counts[rollout::histogram_bucket(100000)] = 900;  // 900 in [64, 128) ms
	const double p50 = rollout::histogram_quantile_ms(counts, 0.5);
	const double p99 = rollout::histogram_quantile_ms(counts, 0.99);
	check(p50 >= 64 && p50 < 128 && p99 > p50 && p99 <= 128, "quantiles follow the counts");
	check(rollout::histogram_quantile_ms(counts, 0.05) < 2, "a low quantile falls in the low bucket");
	check(rollout::histogram_count_above_ms(counts, 64) == 900 &&
	          rollout::histogram_count_above_ms(counts, 96) == 450 &&
	          rollout::histogram_count_above_ms(counts, 1.5) == 950 &&
	          rollout::histogram_count_above_ms(counts, 0) == 1000 &&
	          rollout::histogram_count_above_ms(counts, 128) == 0,
	      "durations above a threshold, spread evenly within a bucket");

	// The gate's test: Fisher's exact one-sided p-values, checked against
	// exact rational arithmetic (Python's fractions and math.comb).
	const auto near = [](double got, double want) {
		return std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want)) ||
		       std::fabs(got / want - 1) < 1e-9;
	};
	using rollout::failure_worse_p_value;
	check(near(failure_worse_p_value(3, 4, 1, 4), 17.0 / 70.0),
	      "Fisher's tea tasting: 3 of 4 against 1 of 4 gives 17/70");
	check(near(failure_worse_p_value(1, 10, 1, 100), 0.1743119266055046),
	      "1 failure in 10 against 1 in 100 is p = 0.174: not evidence at 99%");
	check(near(failure_worse_p_value(20, 40, 0, 40), 3.899128770241874e-08),
	      "20 failures in 40 against none in 40 is p = 3.9e-8");
	check(near(failure_worse_p_value(20, 40, 0, 1000), 1.8394861164578391e-31),
	      "tiny tails are summed without underflow");
	check(near(failure_worse_p_value(10, 1000, 10, 1000), 0.5885422383037665),
	      "equal rates: p above one half");
	check(near(failure_worse_p_value(30, 1000, 10, 1000), 0.0010041667809150049),
	      "3% against 1% over 1000 rows each: p = 0.001");
	check(near(failure_worse_p_value(300, 10000, 270, 10000), 0.108890074493672),
	      "larger counts, exact tail");
	check(failure_worse_p_value(0, 10, 5, 10) == 1.0 && failure_worse_p_value(3, 10, 0, 0) == 1.0 &&
	          failure_worse_p_value(0, 0, 0, 10) == 1.0,
	      "no target failures or an empty side: p = 1");
	check(std::isnan(failure_worse_p_value(11, 10, 0, 10)) &&
	          std::isnan(failure_worse_p_value(-1, 10, 0, 10)),
	      "impossible counts: NaN");
	// Past kExactTerms the z-test answers: 15% against 14% of a million rows
	// each is far beyond chance, 14% against 14% is not.
	const double z_worse = failure_worse_p_value(150000, 1000000, 140000, 1000000);
	const double z_equal = failure_worse_p_value(140000, 1000000, 140000, 1000000);
	check(z_worse < 1e-12 && near(z_equal, 0.5), "the z-test at large counts");

	std::printf("unit: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
