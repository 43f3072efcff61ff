#include "routing.hpp"

#include "cpp_only.hpp"  // last: checks that nothing above pulled in PostgreSQL

namespace rollout {
namespace {

constexpr std::uint32_t rotl32(std::uint32_t x, int r) noexcept
{
	return (x << r) | (x >> (32 - r));
}

std::uint32_t read_le32(const unsigned char *p) noexcept
{
	return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
	       (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace

std::uint32_t murmur3_32(const void *data, std::size_t len, std::uint32_t seed) noexcept
{
	constexpr std::uint32_t c1 = 0xcc9e2d51;
	constexpr std::uint32_t c2 = 0x1b873593;
	const auto *bytes = static_cast<const unsigned char *>(data);
	const std::size_t blocks = len / 4;
	std::uint32_t h = seed;

	for (std::size_t i = 0; i < blocks; ++i) {
		std::uint32_t k = read_le32(bytes + i * 4);
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64;
	}

	const unsigned char *tail = bytes + blocks * 4;
	std::uint32_t k = 0;
	switch (len & 3) {
	case 3:
		k ^= static_cast<std::uint32_t>(tail[2]) << 16;
		[[fallthrough]];
	case 2:
		k ^= static_cast<std::uint32_t>(tail[1]) << 8;
		[[fallthrough]];
	case 1:
		k ^= tail[0];
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
	}

	h ^= static_cast<std::uint32_t>(len);
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

std::uint32_t routing_bucket(const char *key, std::size_t len) noexcept
{
	return murmur3_32(key, len, 0) % kRoutingBuckets;
}

}  // namespace rollout
