// Per-backend cache of agent criteria (rows of rollout_criteria) with their
// prepared claim plans. Changes to rollout_criteria, and to the queue tables,
// invalidate it through the relcache.
#pragma once

#include "postgres_headers.hpp"

// rollout_criteria allows ids of up to 200 characters; in UTF-8 that is at
// most 800 bytes.
constexpr int kMaxCriteriaIdLength = 800;

enum class VersionMatch {
	any,      // multi_version off: every row
	exact,    // the row's version equals the caller's
	at_most,  // base_version: the row's version <= the caller's, or untagged
};

struct ClaimCriteria {
	char criteria_id[kMaxCriteriaIdLength + 1];  // hash key
	bool valid;
	Oid extension_namespace;
	Oid queue_relid;
	Oid row_type;
	bool is_task_queue;  // the extension's own rollout_task_q
	char transaction_id[kMaxCriteriaIdLength + 1];
	VersionMatch version_match;
	int32 batch_size;
	Interval lease;
	int returned_columns;  // non-dropped columns of the queue table
	// $1 transaction text, $2 limit bigint, $3 lease interval, $4 token uuid,
	// $5 caller's version rollout_version
	SPIPlanPtr claim_plan;
};

// The cached criteria; raises undefined_object when it is not registered.
// fn_oid is the calling SQL function, whose schema holds the extension.
const ClaimCriteria *lookup_claim_criteria(Oid fn_oid, const char *criteria_id);
