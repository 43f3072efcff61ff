// Sticky percentage routing: a key's bucket comes from a documented,
// platform-independent hash, so the same key lands in the same bucket on
// every machine, session and release, and in the load balancer in front of
// the servers when the scheme is one it computes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rollout {

// Buckets per 100%: one bucket is 0.01%.
constexpr std::uint32_t kRoutingBuckets = 10000;

// How a key maps to a bucket. Each scheme's bucket b means: the key goes to
// the target version exactly at ramps of more than b hundredths of a percent.
enum class RoutingScheme {
	murmur3,  // MurmurHash3 x86_32, seed 0, modulo 10000 (rollout_ext's own)
	nginx,    // nginx's split_clients: MurmurHash2, seed 0, against 0xffffffff * p / 10000
	haproxy,  // HAProxy's crc32 converter (IEEE CRC-32, as zlib computes it), then mod(10000)
};

// The scheme named `name` ("murmur3", "nginx", "haproxy"), if any.
std::optional<RoutingScheme> parse_routing_scheme(std::string_view name) noexcept;
const char *routing_scheme_name(RoutingScheme scheme) noexcept;

// MurmurHash3 x86_32 (Austin Appleby's reference algorithm) of bytes, with
// the given seed; little-endian block reads on every platform.
std::uint32_t murmur3_32(const void *data, std::size_t len, std::uint32_t seed) noexcept;

// MurmurHash2 (32-bit), as nginx's ngx_murmur_hash2 computes it: seed 0,
// h = len at the start, little-endian block reads.
std::uint32_t murmur2_32(const void *data, std::size_t len) noexcept;

// IEEE CRC-32 (zlib's crc32).
std::uint32_t crc32_ieee(const void *data, std::size_t len) noexcept;

// nginx split_clients with the target listed first at `basis_points`
// hundredths and the base as "*": the target takes hashes below this limit.
constexpr std::uint32_t nginx_split_limit(std::uint32_t basis_points) noexcept
{
	return static_cast<std::uint32_t>(static_cast<std::uint64_t>(basis_points) * 0xffffffffu /
	                                  kRoutingBuckets);
}

// The key's bucket under `scheme`, 0 .. kRoutingBuckets - 1.
std::uint32_t routing_bucket(RoutingScheme scheme, const char *key, std::size_t len) noexcept;

// The murmur3 bucket (the scheme of ramps made before schemes existed).
inline std::uint32_t routing_bucket(const char *key, std::size_t len) noexcept
{
	return routing_bucket(RoutingScheme::murmur3, key, len);
}

// Whether a key in `bucket` goes to the target version at a ramp of
// `basis_points` (hundredths of a percent, 0 .. 10000). Raising the ramp only
// adds buckets; lowering it only removes them. At 10000 every key goes to the
// target, as the load balancer configuration for 100% ("*" the target) does.
constexpr bool routes_to_target(std::uint32_t bucket, std::uint32_t basis_points) noexcept
{
	return bucket < basis_points;
}

}  // namespace rollout
