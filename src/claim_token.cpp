#include "claim_token.hpp"

#include <cstring>

namespace {

// Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01).
constexpr int64 kPostgresEpochMs =
	static_cast<int64>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;

}  // namespace

// A token must differ from every other claim's, so that an agent whose lease
// ran out cannot end the row's next claim; it need not be secret, as agents
// read the queue's tokens anyway. The backend's generator, which PostgreSQL
// seeds from pg_strong_random when the backend starts, gives the 74 random
// bits without the trip into OpenSSL per claim that cost 4% of a claim.
pg_uuid_t *new_claim_token(TimestampTz claimed_at)
{
	auto *token = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	const uint64 unix_ms = static_cast<uint64>(claimed_at / 1000 + kPostgresEpochMs);
	const uint64 random_bits = pg_prng_uint64(&pg_global_prng_state);
	const uint16 random_high = static_cast<uint16>(pg_prng_uint32(&pg_global_prng_state));
	for (int i = 0; i < 6; ++i)  // 48-bit big-endian Unix time in ms
		token->data[i] = static_cast<uint8>(unix_ms >> (8 * (5 - i)));
	token->data[6] = static_cast<uint8>(0x70 | (random_high & 0x0f));  // version 7
	token->data[7] = static_cast<uint8>(random_high >> 8);
	memcpy(token->data + 8, &random_bits, 8);
	token->data[8] = (token->data[8] & 0x3f) | 0x80;  // RFC 9562 variant
	return token;
}

bool claim_token_time(const pg_uuid_t *token, TimestampTz *claimed_at)
{
	if ((token->data[6] >> 4) != 7 || (token->data[8] & 0xc0) != 0x80)
		return false;
	int64 unix_ms = 0;
	for (int i = 0; i < 6; ++i)
		unix_ms = (unix_ms << 8) | token->data[i];
	*claimed_at = (unix_ms - kPostgresEpochMs) * 1000;
	return true;
}
