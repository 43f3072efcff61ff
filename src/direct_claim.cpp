#include "direct_claim.hpp"

#include "direct_write.hpp"
#include "claim_index.hpp"
#include "index_search.hpp"
#include "outcome_stats.hpp"

#include <initializer_list>

extern "C" {
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace {

bool leave_to_statement(const ClaimSpec &spec, const char *why)
{
	elog(DEBUG1, "rollout_claim: criteria \"%s\" claims with a statement: %s",
	     spec.criteria_id, why);
	return false;
}

bool has_type(Oid relid, AttrNumber attnum, Oid type)
{
	return attnum != InvalidAttrNumber && get_atttype(relid, attnum) == type;
}

// The btree operator of the given strategy for index column `column`.
void index_operator(Relation index, int column, StrategyNumber strategy, FmgrInfo *out)
{
	const Oid type = index->rd_opcintype[column];
	const Oid op = get_opfamily_member(index->rd_opfamily[column], type, type, strategy);
	if (!OidIsValid(op))
		elog(ERROR, "rollout_claim: index \"%s\" has no operator of strategy %d for column %d",
		     RelationGetRelationName(index), strategy, column + 1);
	fmgr_info_cxt(get_opcode(op), out, TopMemoryContext);
}

// Checks the index against the columns' types; the caller found it by column
// numbers only.
const char *resolve_operators(Oid relid, Relation index, const QueueColumns &columns,
                              DirectClaimPlan *plan)
{
	int column = 0;
	if (plan->has_transaction) {
		const AttrNumber attnum = get_attnum(relid, columns.transaction);
		Oid type, collation;
		int32 typmod;
		get_atttypetypmodcoll(relid, attnum, &type, &typmod, &collation);
		if (type != TEXTOID || index->rd_opcintype[column] != TEXTOID ||
		    index->rd_indcollation[column] != collation)
			return "the transaction column is not text indexed in its own collation";
		plan->transaction_collation = collation;
		index_operator(index, column++, BTEqualStrategyNumber, &plan->transaction_equal);
	}
	if (plan->match == VersionMatch::exact) {
		if (index->rd_opcintype[column] != plan->version_type)
			return "the index compares versions as another type";
		index_operator(index, column++, BTEqualStrategyNumber, &plan->version_equal);
	}
	if (index->rd_opcintype[column] != TIMESTAMPTZOID)
		return "the index compares due dates as another type";
	index_operator(index, column, BTGreaterEqualStrategyNumber, &plan->due_at_least);
	index_operator(index, column, BTLessEqualStrategyNumber, &plan->due_at_most);
	return nullptr;
}

bool column_has_type(TupleDesc desc, AttrNumber attnum, Oid type)
{
	if (attnum == InvalidAttrNumber)
		return true;
	if (attnum > desc->natts)
		return false;
	const Form_pg_attribute attr = TupleDescAttr(desc, attnum - 1);
	return !attr->attisdropped && attr->atttypid == type;
}

// The plan was made from the catalogs before this claim locked the table; a
// concurrent ALTER TABLE or DROP INDEX that committed meanwhile has
// invalidated the criteria for the next claim, and this one must not use the
// plan either.
bool plan_still_fits(Relation rel, const DirectClaimPlan &plan)
{
	TupleDesc desc = RelationGetDescr(rel);
	List *indexes = RelationGetIndexList(rel);
	const bool fits = list_member_oid(indexes, plan.index_relid) &&
	                  column_has_type(desc, plan.version_attnum, plan.version_type) &&
	                  column_has_type(desc, plan.due_attnum, TIMESTAMPTZOID) &&
	                  column_has_type(desc, plan.token_attnum, UUIDOID) &&
	                  column_has_type(desc, plan.count_attnum, INT4OID) &&
	                  column_has_type(desc, plan.hold_attnum, BOOLOID);
	list_free(indexes);
	return fits;
}

// An executor state just big enough to insert the index entries of updated
// rows: one range table entry, whose updated columns tell the indexes that did
// not change (the primary key) that their new entry duplicates the old one.
EState *index_insert_state(Relation rel, const DirectClaimPlan &plan, ResultRelInfo **target)
{
	EState *estate = CreateExecutorState();
	Bitmapset *updated = nullptr;
	for (const AttrNumber attnum : {plan.due_attnum, plan.token_attnum, plan.count_attnum})
		if (attnum != InvalidAttrNumber)
			updated = bms_add_member(updated, attnum - FirstLowInvalidHeapAttributeNumber);
	RangeTblEntry *entry = makeNode(RangeTblEntry);
	entry->rtekind = RTE_RELATION;
	entry->relid = RelationGetRelid(rel);
	entry->relkind = rel->rd_rel->relkind;
	entry->rellockmode = RowExclusiveLock;
#if PG_VERSION_NUM >= 160000
	RTEPermissionInfo *permissions = makeNode(RTEPermissionInfo);
	permissions->relid = entry->relid;
	permissions->updatedCols = updated;
	entry->perminfoindex = 1;
#if PG_VERSION_NUM >= 180000
	ExecInitRangeTable(estate, list_make1(entry), list_make1(permissions), bms_make_singleton(1));
#else
	ExecInitRangeTable(estate, list_make1(entry), list_make1(permissions));
#endif
#else
	entry->updatedCols = updated;
	ExecInitRangeTable(estate, list_make1(entry));
#endif
	*target = makeNode(ResultRelInfo);
	InitResultRelInfo(*target, rel, 1, nullptr, 0);
	ExecOpenIndices(*target, false);
	return estate;
}

int scan_keys(const DirectClaimPlan &plan, const ClaimSpec &spec, TimestampTz now,
              ScanKeyData *keys)
{
	int nkeys = 0;
	AttrNumber column = 1;
	if (plan.has_transaction)
		ScanKeyEntryInitializeWithInfo(
			&keys[nkeys++], 0, column++, BTEqualStrategyNumber, InvalidOid,
			plan.transaction_collation, const_cast<FmgrInfo *>(&plan.transaction_equal),
			CStringGetTextDatum(spec.transaction_id));
	if (plan.match == VersionMatch::exact)
		ScanKeyEntryInitializeWithInfo(&keys[nkeys++], 0, column++, BTEqualStrategyNumber,
		                               InvalidOid, InvalidOid,
		                               const_cast<FmgrInfo *>(&plan.version_equal),
		                               Int64GetDatum(spec.version));
	if (spec.scan_start != DT_NOBEGIN)
		ScanKeyEntryInitializeWithInfo(&keys[nkeys++], 0, column, BTGreaterEqualStrategyNumber,
		                               InvalidOid, InvalidOid,
		                               const_cast<FmgrInfo *>(&plan.due_at_least),
		                               TimestampTzGetDatum(spec.scan_start));
	ScanKeyEntryInitializeWithInfo(&keys[nkeys++], 0, column, BTLessEqualStrategyNumber,
	                               InvalidOid, InvalidOid,
	                               const_cast<FmgrInfo *>(&plan.due_at_most),
	                               TimestampTzGetDatum(now));
	return nkeys;
}

// A base-version claim takes untagged rows and rows of its own or a lower
// version; the index does not keep the others apart, so the scan passes them.
bool within_base_version(TupleTableSlot *slot, AttrNumber version_attnum,
                         rollout::Version version)
{
	bool isnull;
	const Datum row_version = slot_getattr(slot, version_attnum, &isnull);
	return isnull || rollout::compare_versions(DatumGetInt64(row_version), version) <= 0;
}

// The statement claims a row only where NOT hold is true, so a NULL hold
// holds the row back too. An index partial on NOT hold has no held rows, but
// a plain one has them.
bool held(TupleTableSlot *slot, AttrNumber hold_attnum)
{
	bool isnull;
	const Datum hold = slot_getattr(slot, hold_attnum, &isnull);
	return isnull || DatumGetBool(hold);
}

// The claimed version of a row: leased, with the new token and one more
// claim counted. Dropped columns become NULL, as an UPDATE leaves them.
HeapTuple claimed_row(TupleDesc desc, const DirectClaimPlan &plan, Datum lease_end,
                      const pg_uuid_t *token, Datum *values, bool *nulls)
{
	for (int i = 0; i < desc->natts; ++i)
		if (TupleDescAttr(desc, i)->attisdropped)
			nulls[i] = true;
	values[plan.due_attnum - 1] = lease_end;
	values[plan.token_attnum - 1] = UUIDPGetDatum(token);
	nulls[plan.token_attnum - 1] = false;
	if (plan.count_attnum != InvalidAttrNumber && !nulls[plan.count_attnum - 1]) {
		const int32 count = DatumGetInt32(values[plan.count_attnum - 1]);
		if (count == PG_INT32_MAX)
			ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			                errmsg("integer out of range")));
		values[plan.count_attnum - 1] = Int32GetDatum(count + 1);
	}
	return heap_form_tuple(desc, values, nulls);
}

// Locks the row the scan found into `locked`, as FOR UPDATE SKIP LOCKED does:
// false when another transaction holds it or changed it since the snapshot
// (then it is not ours to claim). Skipping is heapam's supported no-wait mode
// (LockWaitSkip); heap_update's own wait = false is not, and an
// assert-enabled server aborts on it when two claimers race for a row.
bool lock_for_claim(Relation rel, TupleTableSlot *found, TupleTableSlot *locked,
                    Snapshot snapshot)
{
	TM_FailureData failure;
	ItemPointerData tid = found->tts_tid;
	// FOR UPDATE's lock, as the statement form takes, so that both skip the
	// same rows (one a foreign key check holds FOR KEY SHARE among them), and
	// the update that follows needs no stronger one.
	return table_tuple_lock(rel, &tid, snapshot, locked, GetCurrentCommandId(true),
	                        LockTupleExclusive, LockWaitSkip, 0, &failure) == TM_Ok;
}

// Writes the claimed row over the locked one and inserts its index entries.
// The row lock is this transaction's, so the update neither waits nor fails.
void write_claim(Relation rel, ItemPointer locked, TupleTableSlot *claimed, Snapshot snapshot,
                 EState *estate, ResultRelInfo *target)
{
	TM_FailureData failure;
	LockTupleMode lock_mode;
#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes update_indexes;
#else
	bool update_indexes;
#endif
	const TM_Result result =
		table_tuple_update(rel, locked, claimed, GetCurrentCommandId(true), snapshot,
		                   InvalidSnapshot, true, &failure, &lock_mode, &update_indexes);
	if (result != TM_Ok)
		elog(ERROR, "rollout_claim: row (%u,%u) of \"%s\" changed under this claim's lock",
		     ItemPointerGetBlockNumber(locked), ItemPointerGetOffsetNumber(locked),
		     RelationGetRelationName(rel));
#if PG_VERSION_NUM >= 160000
	if (update_indexes != TU_None)
		list_free(ExecInsertIndexTuples(target, claimed, estate, true, false, nullptr, NIL,
		                                update_indexes == TU_Summarizing));
#else
	if (update_indexes)
		list_free(ExecInsertIndexTuples(target, claimed, estate, true, false, nullptr, NIL));
#endif
	ResetPerTupleExprContext(estate);
}

}  // namespace

void plan_direct_claim(Oid queue_relid, VersionMatch match, const QueueColumns &columns,
                       DirectClaimPlan *plan)
{
	*plan = {};
	plan->index_relid = InvalidOid;
	plan->match = match;
	if (match != VersionMatch::any) {
		plan->version_attnum = get_attnum(queue_relid, columns.version);
		plan->version_type = get_atttype(queue_relid, plan->version_attnum);
	}
	plan->due_attnum = get_attnum(queue_relid, columns.due);
	plan->token_attnum = get_attnum(queue_relid, columns.token);
	plan->count_attnum =
		columns.count != nullptr ? get_attnum(queue_relid, columns.count) : InvalidAttrNumber;
	plan->hold_attnum =
		columns.hold != nullptr ? get_attnum(queue_relid, columns.hold) : InvalidAttrNumber;
	plan->has_transaction = columns.transaction != nullptr;
	plan->row_version_attnum =
		columns.version != nullptr ? get_attnum(queue_relid, columns.version) : InvalidAttrNumber;
	if (!has_type(queue_relid, plan->due_attnum, TIMESTAMPTZOID) ||
	    !has_type(queue_relid, plan->token_attnum, UUIDOID) ||
	    (plan->count_attnum != InvalidAttrNumber &&
	     !has_type(queue_relid, plan->count_attnum, INT4OID)) ||
	    (plan->hold_attnum != InvalidAttrNumber &&
	     !has_type(queue_relid, plan->hold_attnum, BOOLOID))) {
		plan->not_direct =
			"the due, token, count or hold column is not timestamptz, uuid, integer, boolean";
		return;
	}
	const bool exact = match == VersionMatch::exact;
	const Oid index_relid =
		claim_order_index(queue_relid, columns.transaction, exact ? columns.version : nullptr,
		                  columns.due, columns.key, columns.hold);
	if (!OidIsValid(index_relid)) {
		plan->not_direct = exact ? "the table has no btree index on (transaction, version, due, key)"
		                         : "the table has no btree index on (transaction, due, key)";
		return;
	}
	Relation rel = table_open(queue_relid, AccessShareLock);
	const bool heap_table = rel->rd_rel->relkind == RELKIND_RELATION &&
	                        rel->rd_tableam == GetHeapamTableAmRoutine();
	table_close(rel, AccessShareLock);
	if (!heap_table) {
		plan->not_direct = "the table is not a plain heap table";
		return;
	}
	Relation index = index_open(index_relid, AccessShareLock);
	plan->not_direct = resolve_operators(queue_relid, index, columns, plan);
	index_close(index, AccessShareLock);
	if (plan->not_direct == nullptr)
		plan->index_relid = index_relid;
}

bool claim_directly(const DirectClaimPlan &plan, const ClaimSpec &spec,
                    ReturnSetInfo *rsinfo, uint64 *claimed, TimestampTz *lowest_due)
{
	if (!OidIsValid(plan.index_relid))
		return leave_to_statement(spec, plan.not_direct);
	Relation rel = table_open(spec.queue_relid, RowExclusiveLock);
	TupleDesc desc = RelationGetDescr(rel);
	const char *why = check_direct_write(rel, CMD_UPDATE);
	if (why == nullptr && !plan_still_fits(rel, plan))
		why = "the table changed since the claim was planned";
	if (why == nullptr && rsinfo->setDesc->natts != desc->natts)
		why = "the result row type differs from the table's";
	if (why != nullptr) {
		table_close(rel, NoLock);
		return leave_to_statement(spec, why);
	}
	Relation index = index_open(plan.index_relid, RowExclusiveLock);

	Snapshot snapshot = begin_direct_statement();

	ResultRelInfo *target;
	EState *estate = index_insert_state(rel, plan, &target);
	ScanKeyData keys[4];
	const int nkeys = scan_keys(plan, spec, GetCurrentTransactionStartTimestamp(), keys);
	IndexScanDesc scan = begin_index_scan(rel, index, snapshot, nkeys);
	index_rescan(scan, keys, nkeys, nullptr, 0);

	// The lease counts from the claim statement, as in the statement form.
	Interval lease = spec.lease;
	const Datum lease_end =
		DirectFunctionCall2(timestamptz_pl_interval,
		                    TimestampTzGetDatum(GetCurrentStatementStartTimestamp()),
		                    IntervalPGetDatum(&lease));
	TupleTableSlot *found = table_slot_create(rel, nullptr);
	TupleTableSlot *locked = table_slot_create(rel, nullptr);
	TupleTableSlot *written = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
	Datum *values = static_cast<Datum *>(palloc(desc->natts * sizeof(Datum)));
	bool *nulls = static_cast<bool *>(palloc(desc->natts * sizeof(bool)));

	const bool counting = outcome_stats_enabled();
	const TimestampTz claimed_at = GetCurrentStatementStartTimestamp();
	OutcomeKey outcome =
		counting ? outcome_key(spec.queue_relid, spec.stats_transaction) : OutcomeKey{};
	*claimed = 0;
	while (*claimed < static_cast<uint64>(spec.limit) &&
	       index_getnext_slot(scan, ForwardScanDirection, found)) {
		CHECK_FOR_INTERRUPTS();
		if (plan.match == VersionMatch::at_most &&
		    !within_base_version(found, plan.version_attnum, spec.version))
			continue;
		if (plan.hold_attnum != InvalidAttrNumber && held(found, plan.hold_attnum))
			continue;
		if (!lock_for_claim(rel, found, locked, snapshot))
			continue;
		slot_getallattrs(locked);
		memcpy(values, locked->tts_values, desc->natts * sizeof(Datum));
		memcpy(nulls, locked->tts_isnull, desc->natts * sizeof(bool));
		const TimestampTz due = DatumGetTimestampTz(values[plan.due_attnum - 1]);
		HeapTuple row = claimed_row(desc, plan, lease_end, spec.token, values, nulls);
		ExecStoreHeapTuple(row, written, true);
		write_claim(rel, &locked->tts_tid, written, snapshot, estate, target);
		if (counting) {
			// Attributed to the row's version; a token still on it is an
			// earlier claim's whose lease ran out.
			const AttrNumber v = plan.row_version_attnum;
			outcome.has_version = v != InvalidAttrNumber && !locked->tts_isnull[v - 1];
			outcome.version = outcome.has_version ? DatumGetInt64(locked->tts_values[v - 1]) : 0;
			count_claimed(outcome, claimed_at, due, !locked->tts_isnull[plan.token_attnum - 1]);
		}
		tuplestore_puttuple(rsinfo->setResult, row);
		if (*claimed == 0)
			*lowest_due = due;
		++*claimed;
	}

	ExecDropSingleTupleTableSlot(written);
	ExecDropSingleTupleTableSlot(locked);
	ExecDropSingleTupleTableSlot(found);
	index_endscan(scan);
	ExecCloseIndices(target);
	FreeExecutorState(estate);
	PopActiveSnapshot();
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return true;
}
