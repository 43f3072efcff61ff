// What a claim is made of, whichever way it runs (the statement of
// claim_criteria.cpp or the direct claim of direct_claim.cpp): the queue's
// columns as a criteria names them, and one claim's resolved arguments.
#pragma once

#include "core/version.hpp"
#include "postgres_headers.hpp"

// The criteria's columns by name, as rollout_criteria stores them; nullptr
// for the optional ones it does not use.
struct QueueColumns {
	const char *key;
	const char *due;
	const char *version;
	const char *transaction;
	const char *hold;
	const char *token;
	const char *count;
};

// One claim, resolved from its arguments and criteria; the statement runs
// the same spec when the direct claim cannot.
struct ClaimSpec {
	const char *criteria_id;
	Oid queue_relid;
	const char *transaction_id;
	rollout::Version version;
	int64 limit;
	TimestampTz scan_start;  // DT_NOBEGIN: from the oldest entry
	Interval lease;
	const pg_uuid_t *token;
	const char *stats_transaction;  // rollout_stats' transaction: the criteria id without a column
};
