// The shared-memory table behind rollout_stats, for the files that count
// into it (outcome_stats.cpp) and read and reset it (outcome_stats_sql.cpp).
#pragma once

#include "core/histogram.hpp"
#include "postgres_headers.hpp"

extern "C" {
#include "storage/lwlock.h"
#include "storage/spin.h"
}

// A transaction id is kept up to this many bytes for display (cut at a
// character boundary); the key holds a hash of all of it.
constexpr int kStatsTransactionBytes = 128;

// Versions are non-negative; these mark the rows that have none.
constexpr int64 kUntaggedVersion = -1;  // an untagged row, or a refusal of a gone row
constexpr int64 kOverflowVersion = -2;  // a database's overflow row

struct StatsKey {
	Oid dbid;
	Oid relid;            // InvalidOid: the overflow row
	int64 version;        // or kUntaggedVersion, kOverflowVersion
	uint64 transaction_hash;
	bool transaction_known;  // false: a refusal whose row is gone
};

struct StatsCounters {
	int64 claimed;
	int64 completed;
	int64 retried;
	int64 refused;
	int64 expired;
	int64 parked;
	int64 work[rollout::kHistogramBuckets];  // claim to completion or retry
	int64 wait[rollout::kHistogramBuckets];  // due date to claim
	int64 overflowed;  // overflow rows: counts of keys that found no room
};

struct StatsEntry {
	StatsKey key;  // hash key, first
	slock_t mutex;
	char transaction[kStatsTransactionBytes];
	TimestampTz since;
	StatsCounters counters;
};

struct StatsShared {
	LWLock *lock;
	int64 keys;  // entries other than overflow rows
	slock_t mutex;
	int64 dropped;  // counts with no room even for an overflow row
};

// NULL when the library was not preloaded.
extern StatsShared *stats_shared;
extern HTAB *stats_hash;

// Adds `delta` into the entry of `key`, making it (or counting into the
// database's overflow row when the table is full). Never raises an error:
// it runs after commit.
void stats_add(const StatsKey &key, const char *transaction, const StatsCounters &delta);
