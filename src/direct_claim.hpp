// The claim without a statement. When the table has a btree index that keeps
// the criteria's candidate rows in claim order, (transaction, version, due,
// key) for an exact-version criteria and (transaction, due, key) for the
// others, rollout_claim walks that index itself and moves each due row's
// lease: it locks the row as FOR UPDATE SKIP LOCKED does, in heapam's own
// no-wait mode, then updates it under that lock. A base-version claim skips
// the rows of higher versions on its way, as the statement's filter does. A
// row that another transaction holds or has changed since the scan saw it is
// skipped. The row lock and the update are the statement's; what the direct
// claim saves is the planner and the executor.
//
// Whatever the statement would do that a bare update does not sends the claim
// to the statement instead: UPDATE triggers (foreign keys and deferrable
// constraints among them), row-level security, rules, CHECK constraints,
// stored generated columns, column-level privileges, and REPEATABLE READ or
// SERIALIZABLE transactions, where a changed row must raise a serialization
// failure rather than be skipped.
#pragma once

#include "claim_spec.hpp"
#include "postgres_headers.hpp"
#include "version_match.hpp"

// What a direct claim needs, resolved once per criteria.
struct DirectClaimPlan {
	Oid index_relid;            // InvalidOid: every claim runs the statement
	const char *not_direct;     // then why, for DEBUG1
	VersionMatch match;         // exact: the index's column after the transaction
	bool has_transaction;       // the index starts with the transaction column
	AttrNumber version_attnum;  // read to skip higher versions when match is at_most
	AttrNumber row_version_attnum;  // the row's version, for rollout_stats, whatever the match
	Oid version_type;
	AttrNumber due_attnum;
	AttrNumber token_attnum;
	AttrNumber count_attnum;    // InvalidAttrNumber without a count column
	AttrNumber hold_attnum;     // InvalidAttrNumber without a hold column
	Oid transaction_collation;
	FmgrInfo transaction_equal;
	FmgrInfo version_equal;     // exact only
	FmgrInfo due_at_least;
	FmgrInfo due_at_most;
};

// Resolves the index and operators of a direct claim of queue_relid.
void plan_direct_claim(Oid queue_relid, VersionMatch match, const QueueColumns &columns,
                       DirectClaimPlan *plan);

// Claims up to spec.limit rows and appends them, in claim order, to the
// tuplestore of rsinfo. Returns false, having claimed nothing, when this claim
// must run the statement; else sets *claimed and, when it is not zero, the
// lowest due date the claimed rows had.
bool claim_directly(const DirectClaimPlan &plan, const ClaimSpec &spec,
                    ReturnSetInfo *rsinfo, uint64 *claimed, TimestampTz *lowest_due);
