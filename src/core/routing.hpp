// Sticky percentage routing: a key's bucket comes from a documented,
// platform-independent hash, so the same key lands in the same bucket on
// every machine, session and release.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rollout {

// Buckets per 100%: one bucket is 0.01%.
constexpr std::uint32_t kRoutingBuckets = 10000;

// MurmurHash3 x86_32 (Austin Appleby's reference algorithm) of bytes, with
// the given seed; little-endian block reads on every platform.
std::uint32_t murmur3_32(const void *data, std::size_t len, std::uint32_t seed) noexcept;

// The key's bucket, 0 .. kRoutingBuckets - 1: murmur3_32(key, seed 0) mod 10000.
std::uint32_t routing_bucket(const char *key, std::size_t len) noexcept;

// Whether a key in `bucket` goes to the target version at a ramp of
// `basis_points` (hundredths of a percent, 0 .. 10000). Raising the ramp only
// adds buckets; lowering it only removes them.
constexpr bool routes_to_target(std::uint32_t bucket, std::uint32_t basis_points) noexcept
{
	return bucket < basis_points;
}

}  // namespace rollout
