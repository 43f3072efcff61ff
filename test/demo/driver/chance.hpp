// Deterministic "random" decisions: a function of the seed, a row's key and
// a salt (the stage and attempt), so the same rows fail in every run with the
// same seed, whichever agent thread happens to claim them.
#pragma once

#include <cstdint>
#include <string>

namespace demo {

inline std::uint64_t mix64(std::uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

inline std::uint64_t hash_key(std::uint64_t seed, const std::string &key, std::uint64_t salt)
{
	std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed with seed and salt
	for (unsigned char c : key)
		h = (h ^ c) * 0x100000001b3ULL;
	return mix64(h ^ mix64(seed ^ mix64(salt)));
}

// True for about percent% of (key, salt) pairs.
inline bool chance(std::uint64_t seed, const std::string &key, std::uint64_t salt, int percent)
{
	return static_cast<int>(hash_key(seed, key, salt) % 100) < percent;
}

// Salts: one per decision.
enum Salt : std::uint64_t {
	kSaltBackorder = 100,   // + attempt
	kSaltAsyncError = 200,  // + error count
	kSaltPaymentError = 300,
	kSaltBadRelease = 400,
};

}  // namespace demo
