// Claim tokens: RFC 9562 version 7 UUIDs, the claim statement's time in
// milliseconds followed by random bits. The time lets a completion or a
// retry tell how long the row was worked on, on whatever connection it runs
// (behind a pooler, not the claim's), without a column of its own.
#pragma once

#include "postgres_headers.hpp"

// A fresh token for a claim made at claimed_at.
pg_uuid_t *new_claim_token(TimestampTz claimed_at);

// The claim time a token carries; false for a token of another kind (the
// version 4 tokens of releases before 0.3.0).
bool claim_token_time(const pg_uuid_t *token, TimestampTz *claimed_at);
