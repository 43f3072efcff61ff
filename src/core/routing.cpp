#include "routing.hpp"

#include <zlib.h>

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

std::uint32_t murmur2_32(const void *data, std::size_t len) noexcept
{
	constexpr std::uint32_t m = 0x5bd1e995;
	const auto *bytes = static_cast<const unsigned char *>(data);
	std::uint32_t h = static_cast<std::uint32_t>(len);  // seed 0, xor len

	for (; len >= 4; bytes += 4, len -= 4) {
		std::uint32_t k = read_le32(bytes);
		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len) {
	case 3:
		h ^= static_cast<std::uint32_t>(bytes[2]) << 16;
		[[fallthrough]];
	case 2:
		h ^= static_cast<std::uint32_t>(bytes[1]) << 8;
		[[fallthrough]];
	case 1:
		h ^= bytes[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

std::uint32_t crc32_ieee(const void *data, std::size_t len) noexcept
{
	// zlib takes lengths as uInt; feed longer keys in pieces.
	uLong crc = crc32(0L, Z_NULL, 0);
	const auto *bytes = static_cast<const Bytef *>(data);
	while (len > 0) {
		const uInt piece = len > 0x40000000u ? 0x40000000u : static_cast<uInt>(len);
		crc = crc32(crc, bytes, piece);
		bytes += piece;
		len -= piece;
	}
	return static_cast<std::uint32_t>(crc);
}

std::optional<RoutingScheme> parse_routing_scheme(std::string_view name) noexcept
{
	for (RoutingScheme scheme : {RoutingScheme::murmur3, RoutingScheme::nginx, RoutingScheme::haproxy})
		if (name == routing_scheme_name(scheme))
			return scheme;
	return std::nullopt;
}

const char *routing_scheme_name(RoutingScheme scheme) noexcept
{
	switch (scheme) {
	case RoutingScheme::nginx:
		return "nginx";
	case RoutingScheme::haproxy:
		return "haproxy";
	case RoutingScheme::murmur3:
		break;
	}
	return "murmur3";
}

namespace {

// nginx gives the target the hashes below nginx_split_limit(p): the bucket is
// one less than the smallest p whose limit is above the hash, so that
// "bucket < p" decides as nginx does. Past 9999 (the few hashes at or above
// the limit of 99.99%) only 100%, where "*" is the target, takes them.
std::uint32_t nginx_bucket(std::uint32_t hash) noexcept
{
	std::uint32_t p = static_cast<std::uint32_t>(static_cast<std::uint64_t>(hash) *
	                                             kRoutingBuckets / 0xffffffffu);
	while (p > 0 && nginx_split_limit(p) > hash)
		--p;
	while (p < kRoutingBuckets && nginx_split_limit(p) <= hash)
		++p;
	// p is now the smallest ramp whose limit is above the hash, 1 .. 10000.
	return p - 1;
}

}  // namespace

std::uint32_t routing_bucket(RoutingScheme scheme, const char *key, std::size_t len) noexcept
{
	switch (scheme) {
	case RoutingScheme::nginx:
		return nginx_bucket(murmur2_32(key, len));
	case RoutingScheme::haproxy:
		return crc32_ieee(key, len) % kRoutingBuckets;
	case RoutingScheme::murmur3:
		break;
	}
	return murmur3_32(key, len, 0) % kRoutingBuckets;
}

}  // namespace rollout
