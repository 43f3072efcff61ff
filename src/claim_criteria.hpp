// Per-backend cache of agent criteria (rows of rollout_criteria) with their
// prepared claim plans. Changes to rollout_criteria, and to the queue tables,
// invalidate it through the relcache.
#pragma once

#include "claim_position.hpp"
#include "direct_claim.hpp"
#include "postgres_headers.hpp"

// rollout_criteria allows ids of up to 200 characters; in UTF-8 that is at
// most 800 bytes.
constexpr int kMaxCriteriaIdLength = 800;

constexpr int kClaimPlansPerCriteria = 4;
constexpr int kClaimParameters = 5;

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
	Oid version_type;
	// The pieces of the claim statement, in TopMemoryContext: the locked scan
	// up to its LIMIT, the UPDATE of the rows it found, and the SELECT that
	// sorts a batch. Parameters: $1 transaction text, $2 lease interval, $3
	// token uuid, $4 caller's version rollout_version, $5 lowest due date to
	// scan from timestamptz. It returns the table's columns, then the row's
	// due date and claim token before the claim.
	char *claim_sql_head;
	char *claim_sql_update;
	char *claim_sql_ordered_select;
	// One generic plan per batch size in use. The LIMIT is a constant in each:
	// with a parameter there, a generic plan assumes a tenth of the table and
	// joins the UPDATE by scanning it, so PostgreSQL would replan every call.
	int nplans;
	int64 plan_limits[kClaimPlansPerCriteria];
	SPIPlanPtr plans[kClaimPlansPerCriteria];
	DirectClaimPlan direct;
	ClaimPositions positions;
};

// The cached criteria; raises undefined_object when it is not registered.
// fn_oid is the calling SQL function, whose schema holds the extension.
ClaimCriteria *lookup_claim_criteria(Oid fn_oid, const char *criteria_id);

// The prepared claim of up to `limit` rows. Call inside SPI.
SPIPlanPtr claim_plan(ClaimCriteria *criteria, int64 limit);
