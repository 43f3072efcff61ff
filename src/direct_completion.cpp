#include "direct_completion.hpp"

#include "direct_write.hpp"
#include "index_search.hpp"
#include "outcome_stats.hpp"

extern "C" {
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
}

#include <cstring>

namespace {

constexpr const char *kTokenColumn = "claim_token";

// The table's single-column bigint primary key, or InvalidOid.
Oid bigint_primary_key(Relation rel)
{
	list_free(RelationGetIndexList(rel));  // fills rd_pkindex
	// Read once: index_open accepts invalidations, and a relcache rebuild
	// (a concurrent VACUUM, a reloption change) may clear rd_pkindex until
	// the index list is read again.
	const Oid primary_key = rel->rd_pkindex;
	if (!OidIsValid(primary_key))
		return InvalidOid;
	Relation index = index_open(primary_key, AccessShareLock);
	const bool fits = IndexRelationGetNumberOfKeyAttributes(index) == 1 &&
	                  index->rd_opcintype[0] == INT8OID;
	index_close(index, AccessShareLock);
	return fits ? primary_key : InvalidOid;
}

// The task queue's column numbers, looked up once per backend rather than
// three catalog lookups per completion; a relcache invalidation of the table
// (ALTER TABLE, and any other) makes the next completion look again.
struct TaskQueueColumns {
	Oid relid;
	AttrNumber token;
	AttrNumber transaction;
	AttrNumber version;
};
TaskQueueColumns task_queue_columns = {InvalidOid, 0, 0, 0};

void forget_task_queue_columns(Datum, Oid relid)
{
	if (relid == InvalidOid || relid == task_queue_columns.relid)
		task_queue_columns.relid = InvalidOid;
}

const TaskQueueColumns &columns_of(Oid task_q_relid)
{
	static bool callback_registered = false;
	if (!callback_registered) {
		CacheRegisterRelcacheCallback(forget_task_queue_columns, (Datum) 0);
		callback_registered = true;
	}
	if (task_queue_columns.relid != task_q_relid) {
		task_queue_columns.token = get_attnum(task_q_relid, kTokenColumn);
		task_queue_columns.transaction = get_attnum(task_q_relid, "transaction_id");
		task_queue_columns.version = get_attnum(task_q_relid, "rollout_version");
		task_queue_columns.relid = task_q_relid;
	}
	return task_queue_columns;
}

// The row's transaction and version, for rollout_stats.
OutcomeKey row_outcome(Oid relid, const TaskQueueColumns &columns, TupleTableSlot *slot)
{
	bool isnull;
	const Datum transaction = slot_getattr(slot, columns.transaction, &isnull);
	OutcomeKey outcome = outcome_key(relid, isnull ? nullptr : TextDatumGetCString(transaction));
	const Datum version = slot_getattr(slot, columns.version, &isnull);
	outcome.has_version = !isnull;
	outcome.version = isnull ? 0 : DatumGetInt64(version);
	return outcome;
}

bool token_matches(TupleTableSlot *slot, AttrNumber token_attnum, const pg_uuid_t *token)
{
	bool isnull;
	const Datum value = slot_getattr(slot, token_attnum, &isnull);
	return !isnull && memcmp(DatumGetUUIDP(value)->data, token->data, UUID_LEN) == 0;
}

DirectCompletion complete_with_statement(Relation rel, const char *why)
{
	elog(DEBUG1, "rollout_complete: completes with a statement: %s", why);
	table_close(rel, NoLock);
	return DirectCompletion::needs_statement;
}

}  // namespace

DirectCompletion complete_directly(Oid task_q_relid, int64 key, const pg_uuid_t *token)
{
	Relation rel = table_open(task_q_relid, RowExclusiveLock);
	if (const char *why = check_direct_write(rel, CMD_DELETE))
		return complete_with_statement(rel, why);
	// Copied: an invalidation accepted below may reset the cached entry.
	const TaskQueueColumns columns = columns_of(task_q_relid);
	const Oid primary_key = bigint_primary_key(rel);
	if (!OidIsValid(primary_key) || columns.token == InvalidAttrNumber ||
	    columns.transaction == InvalidAttrNumber || columns.version == InvalidAttrNumber)
		return complete_with_statement(rel, "the table has no bigint key or no claim token");

	Relation index = index_open(primary_key, RowExclusiveLock);
	Snapshot snapshot = begin_direct_statement();
	ScanKeyData key_equals;
	ScanKeyInit(&key_equals, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(key));
	IndexScanDesc scan = begin_index_scan(rel, index, snapshot, 1);
	index_rescan(scan, &key_equals, 1, nullptr, 0);
	TupleTableSlot *slot = table_slot_create(rel, nullptr);

	DirectCompletion outcome = DirectCompletion::stale;
	const bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found && token_matches(slot, columns.token, token)) {
		TM_FailureData failure;
		const TM_Result result =
			table_tuple_delete(rel, &slot->tts_tid, GetCurrentCommandId(true), snapshot,
			                   InvalidSnapshot, true, &failure, false);
		outcome = result == TM_Ok ? DirectCompletion::completed
		                          : DirectCompletion::needs_statement;
	}
	// The statement counts what it decides.
	if (outcome != DirectCompletion::needs_statement && outcome_stats_enabled()) {
		const OutcomeKey key =
			found ? row_outcome(task_q_relid, columns, slot) : outcome_key(task_q_relid, nullptr);
		count_claim_end(key, outcome == DirectCompletion::completed ? ClaimEnd::completed
		                                                            : ClaimEnd::refused,
		                token);
	}

	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	PopActiveSnapshot();
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return outcome;
}
