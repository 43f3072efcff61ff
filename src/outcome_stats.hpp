// Per-version outcome statistics: what claims, completions and retries did
// to the rows of each queue table, transaction and row version, counted in
// shared memory when their transaction commits (the pg_stat_statements way:
// a bounded hash under an LWLock, written at shutdown and read at startup).
// Needs shared_preload_libraries; without it nothing is counted and the
// rollout_stats view says why.
#pragma once

#include "core/version.hpp"
#include "postgres_headers.hpp"

// From _PG_init, after define_settings(): the transaction callbacks and,
// when preloading, the shared memory hooks.
void init_outcome_stats();

// Preloaded and rollout.track_stats on: callers skip their counting work
// otherwise.
bool outcome_stats_enabled();

// The row an outcome is counted for: its queue table, its transaction (the
// criteria id for a table without a transaction column; NULL when a refused
// completion's row is gone and nothing is known of it) and its version.
struct OutcomeKey {
	Oid relid;
	const char *transaction;
	uint64 transaction_hash;
	bool has_version;  // false: an untagged row, or unknown
	rollout::Version version;
};

// The key of rows of relid and transaction, of no version yet. It hashes the
// transaction, so a claim makes it once and sets each row's version.
OutcomeKey outcome_key(Oid relid, const char *transaction);

// A row handed out by a claim made at claimed_at. `due` is the row's due
// date before the claim; `expired` says another claim's token was still on
// it (a claimer that died or overran its lease).
void count_claimed(const OutcomeKey &key, TimestampTz claimed_at, TimestampTz due, bool expired);

enum class ClaimEnd { completed, retried, refused, parked };

// The end of a claim: completed, handed back, parked, or refused for a stale
// token. The token, when its claim time is known, gives the work time.
void count_claim_end(const OutcomeKey &key, ClaimEnd end, const pg_uuid_t *token);
