#include "claim_criteria.hpp"

#include "sql_text.hpp"
#include "claim_index.hpp"
#include "extension_common.hpp"
#include "kept_plan.hpp"

#include <cstring>
#include <initializer_list>

namespace {

// The criteria row, read with the plan below. Column order matters.
constexpr const char *kCriteriaQuery =
	"SELECT transaction_id, queue_table::oid, key_column, due_column, version_column, "
	"transaction_column, hold_column, token_column, count_column, multi_version, base_version, "
	"batch_size, lease FROM %s.rollout_criteria WHERE criteria_id OPERATOR(pg_catalog.=) $1";

enum CriteriaColumn {
	kTransactionId = 1, kQueueTable, kKeyColumn, kDueColumn, kVersionColumn,
	kTransactionColumn, kHoldColumn, kTokenColumn, kCountColumn, kMultiVersion,
	kBaseVersion, kBatchSize, kLease
};

HTAB *criteria_cache = nullptr;
SPIPlanPtr criteria_query_plan = nullptr;
Oid criteria_table_relid = InvalidOid;
uint64 invalidation_counter = 0;

void invalidate_criteria(Datum, Oid relid)
{
	const bool all = relid == InvalidOid || relid == criteria_table_relid;
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, criteria_cache);
	while (auto *criteria = static_cast<ClaimCriteria *>(hash_seq_search(&status))) {
		if (all || criteria->queue_relid == relid) {
			criteria->valid = false;
			++invalidation_counter;
		}
	}
}

void ensure_criteria_cache()
{
	if (criteria_cache != nullptr)
		return;
	HASHCTL ctl;
	ctl.keysize = kMaxCriteriaIdLength + 1;
	ctl.entrysize = sizeof(ClaimCriteria);
	criteria_cache = hash_create("rollout_ext claim criteria", 64, &ctl, HASH_ELEM | HASH_STRINGS);
	CacheRegisterRelcacheCallback(invalidate_criteria, (Datum) 0);
}

const char *extension_schema(Oid fn_oid)
{
	return quote_identifier(get_namespace_name(get_func_namespace(fn_oid)));
}

void prepare_criteria_query(const char *schema)
{
	if (criteria_query_plan != nullptr)
		return;
	StringInfoData sql;
	initStringInfo(&sql);
	appendStringInfo(&sql, kCriteriaQuery, schema);
	Oid argtypes[1] = {TEXTOID};
	criteria_query_plan =
		keep_prepared_plan(SPI_prepare(sql.data, 1, argtypes), "the criteria query");
}

// A text column of the criteria row, or nullptr when NULL.
char *text_column(HeapTuple row, TupleDesc desc, int column)
{
	return SPI_getvalue(row, desc, column);
}

Datum binary_column(HeapTuple row, TupleDesc desc, int column)
{
	bool isnull;
	Datum value = SPI_getbinval(row, desc, column, &isnull);
	if (isnull)
		elog(ERROR, "rollout_claim: column %d of rollout_criteria is null", column);
	return value;
}

// The criteria's column names as stored.
QueueColumns queue_columns(HeapTuple row, TupleDesc desc)
{
	QueueColumns columns;
	columns.key = text_column(row, desc, kKeyColumn);
	columns.due = text_column(row, desc, kDueColumn);
	columns.version = text_column(row, desc, kVersionColumn);
	columns.transaction = text_column(row, desc, kTransactionColumn);
	columns.hold = text_column(row, desc, kHoldColumn);
	columns.token = text_column(row, desc, kTokenColumn);
	columns.count = text_column(row, desc, kCountColumn);
	return columns;
}

// The claim statement for one criteria, split around its LIMIT; every
// eligibility predicate, the version included, is inside the locked,
// materialized scan.
void build_claim_sql(const QueueColumns &columns, Oid queue_relid, VersionMatch match,
                     Oid extension_namespace, int *returned_columns, char **head, char **update,
                     char **ordered_select)
{
	const char *table = qualified_table_name(queue_relid);
	const char *transaction = columns.transaction;
	const char *hold = columns.hold;
	const char *count = columns.count;
	const char *key = quote_identifier(columns.key);
	const char *due = quote_identifier(columns.due);
	const char *version = quote_identifier(columns.version);
	const char *token = quote_identifier(columns.token);

	const char *key_equals =
		equality_operator(get_atttype(queue_relid, get_attnum(queue_relid, columns.key)));

	StringInfoData sql;
	initStringInfo(&sql);
	appendStringInfo(&sql,
	                 "WITH c AS MATERIALIZED (SELECT q.%s AS claim_key, q.%s AS claim_due, "
	                 "q.%s AS claim_token_before "
	                 "FROM %s q WHERE q.%s OPERATOR(pg_catalog.<=) pg_catalog.now() "
	                 "AND q.%s OPERATOR(pg_catalog.>=) $5",
	                 key, due, token, table, due, due);
	if (transaction != nullptr)
		appendStringInfo(&sql, " AND q.%s OPERATOR(pg_catalog.=) $1",
		                 quote_identifier(transaction));
	if (hold != nullptr)
		appendStringInfo(&sql, " AND NOT q.%s", quote_identifier(hold));
	// With an index that keeps each version's rows in due order, the exact
	// match is written as a range and the order starts with the version. The
	// planner then cannot serve the claim from an index on the due date alone,
	// filtering versions as it goes: with statistics from before a new version
	// appeared, it would pick that, and the new version's claims would walk
	// every row of the old one.
	const bool version_range =
		match == VersionMatch::exact &&
		OidIsValid(claim_order_index(queue_relid, transaction, columns.version, columns.due,
		                             nullptr, hold));
	if (version_range)
		appendStringInfo(&sql, " AND q.%s %s $4 AND q.%s %s $4", version,
		                 extension_operator(extension_namespace, ">="), version,
		                 extension_operator(extension_namespace, "<="));
	else if (match == VersionMatch::exact)
		appendStringInfo(&sql, " AND q.%s %s $4", version,
		                 extension_operator(extension_namespace, "="));
	else if (match == VersionMatch::at_most)
		appendStringInfo(&sql, " AND (q.%s %s $4 OR q.%s IS NULL)", version,
		                 extension_operator(extension_namespace, "<="), version);
	// The lease counts from the claim statement, not from the start of its
	// transaction, so a claim late in a long transaction still gets it whole.
	appendStringInfoString(&sql, " ORDER BY");
	if (version_range)
		appendStringInfo(&sql, " q.%s,", version);
	appendStringInfo(&sql, " q.%s, q.%s LIMIT ", due, key);
	*head = MemoryContextStrdup(TopMemoryContext, sql.data);
	resetStringInfo(&sql);
	appendStringInfo(&sql,
	                 "UPDATE %s t SET %s = pg_catalog.statement_timestamp() "
	                 "OPERATOR(pg_catalog.+) $2, %s = $3",
	                 table, due, token);
	if (count != nullptr)
		appendStringInfo(&sql, ", %s = t.%s OPERATOR(pg_catalog.+) 1", quote_identifier(count),
		                 quote_identifier(count));
	appendStringInfo(&sql,
	                 " FROM c WHERE t.%s %s c.claim_key RETURNING t.*, c.claim_due AS "
	                 "rollout_claim_due, c.claim_token_before AS rollout_claim_token_before",
	                 key, key_equals);
	*update = MemoryContextStrdup(TopMemoryContext, sql.data);
	resetStringInfo(&sql);

	// The table's columns in order, so rows come back in claim order (due,
	// then key) and in the table's row type.
	appendStringInfoString(&sql, "SELECT ");
	Relation rel = relation_open(queue_relid, AccessShareLock);
	TupleDesc rel_desc = RelationGetDescr(rel);
	int live_columns = 0;
	for (int i = 0; i < rel_desc->natts; ++i) {
		Form_pg_attribute attr = TupleDescAttr(rel_desc, i);
		if (attr->attisdropped)
			continue;
		appendStringInfo(&sql, "%su.%s", live_columns > 0 ? ", " : "",
		                 quote_identifier(NameStr(attr->attname)));
		++live_columns;
	}
	relation_close(rel, AccessShareLock);
	appendStringInfo(&sql,
	                 ", u.rollout_claim_due, u.rollout_claim_token_before FROM u "
	                 "ORDER BY u.rollout_claim_due, u.%s",
	                 key);

	*returned_columns = live_columns;
	*ordered_select = MemoryContextStrdup(TopMemoryContext, sql.data);
	pfree(sql.data);
}

// Reads the criteria row and prepares its claim plan. Runs inside SPI.
bool read_criteria(Oid fn_oid, const char *criteria_id, ClaimCriteria *out)
{
	const char *schema = extension_schema(fn_oid);
	prepare_criteria_query(schema);
	if (criteria_table_relid == InvalidOid)
		criteria_table_relid = get_relname_relid("rollout_criteria", get_func_namespace(fn_oid));

	Datum arg = CStringGetTextDatum(criteria_id);
	const int rc = SPI_execute_plan(criteria_query_plan, &arg, nullptr, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "rollout_claim: criteria query failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;

	HeapTuple row = SPI_tuptable->vals[0];
	TupleDesc desc = SPI_tuptable->tupdesc;

	strlcpy(out->criteria_id, criteria_id, sizeof(out->criteria_id));
	out->extension_namespace = get_func_namespace(fn_oid);
	strlcpy(out->transaction_id, text_column(row, desc, kTransactionId),
	        sizeof(out->transaction_id));
	out->queue_relid = DatumGetObjectId(binary_column(row, desc, kQueueTable));
	out->row_type = get_rel_type_id(out->queue_relid);
	if (!OidIsValid(out->row_type))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
		                errmsg("queue table of criteria \"%s\" no longer exists", criteria_id),
		                errhint("Register the criteria again with rollout_define_criteria().")));
	out->is_task_queue = get_rel_namespace(out->queue_relid) == get_func_namespace(fn_oid) &&
	                     strcmp(get_rel_name(out->queue_relid), "rollout_task_q") == 0;
	if (!DatumGetBool(binary_column(row, desc, kMultiVersion)))
		out->version_match = VersionMatch::any;
	else if (DatumGetBool(binary_column(row, desc, kBaseVersion)))
		out->version_match = VersionMatch::at_most;
	else
		out->version_match = VersionMatch::exact;
	out->batch_size = DatumGetInt32(binary_column(row, desc, kBatchSize));
	out->lease = *DatumGetIntervalP(binary_column(row, desc, kLease));

	const QueueColumns columns = queue_columns(row, desc);
	build_claim_sql(columns, out->queue_relid, out->version_match, out->extension_namespace,
	                &out->returned_columns, &out->claim_sql_head, &out->claim_sql_update,
	                &out->claim_sql_ordered_select);
	plan_direct_claim(out->queue_relid, out->version_match, columns, &out->direct);
	out->version_type = version_type_oid(get_func_namespace(fn_oid));
	out->nplans = 0;
	return true;
}

void release_claim_plans(ClaimCriteria *criteria)
{
	for (int i = 0; i < criteria->nplans; ++i)
		SPI_freeplan(criteria->plans[i]);
	criteria->nplans = 0;
	for (char **sql : {&criteria->claim_sql_head, &criteria->claim_sql_update,
	                   &criteria->claim_sql_ordered_select}) {
		if (*sql != nullptr)
			pfree(*sql);
		*sql = nullptr;
	}
}

}  // namespace

ClaimCriteria *lookup_claim_criteria(Oid fn_oid, const char *criteria_id)
{
	if (strlen(criteria_id) > kMaxCriteriaIdLength)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("criteria \"%.*s...\" does not exist", 40, criteria_id),
		                errdetail("Criteria ids are at most 200 characters long.")));
	ensure_criteria_cache();

	// HASH_STRINGS hashes and compares up to the NUL and copies with strlcpy,
	// so the id, checked against the key size above, serves as the key as is.
	auto *cached = static_cast<ClaimCriteria *>(
		hash_search(criteria_cache, criteria_id, HASH_FIND, nullptr));
	if (cached != nullptr && cached->valid)
		return cached;

	const uint64 counter_before = invalidation_counter;
	ClaimCriteria fresh = {};
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_claim: SPI_connect failed");
	const bool found = read_criteria(fn_oid, criteria_id, &fresh);
	SPI_finish();
	if (!found)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
		                errmsg("criteria \"%s\" does not exist", criteria_id),
		                errhint("Register it with rollout_define_criteria().")));

	bool existed;
	auto *entry = static_cast<ClaimCriteria *>(
		hash_search(criteria_cache, criteria_id, HASH_ENTER, &existed));
	if (existed)
		release_claim_plans(entry);
	*entry = fresh;
	// An invalidation that arrived while the catalogs were read means the plan
	// may already be stale: use it for this call, rebuild on the next.
	entry->valid = (invalidation_counter == counter_before);
	return entry;
}

SPIPlanPtr claim_plan(ClaimCriteria *criteria, int64 limit)
{
	for (int i = 0; i < criteria->nplans; ++i)
		if (criteria->plan_limits[i] == limit)
			return criteria->plans[i];

	// Agents use one or two batch sizes; past the slots, the oldest plan goes.
	if (criteria->nplans == kClaimPlansPerCriteria) {
		SPI_freeplan(criteria->plans[0]);
		memmove(&criteria->plans[0], &criteria->plans[1],
		        sizeof(SPIPlanPtr) * (kClaimPlansPerCriteria - 1));
		memmove(&criteria->plan_limits[0], &criteria->plan_limits[1],
		        sizeof(int64) * (kClaimPlansPerCriteria - 1));
		--criteria->nplans;
	}

	// One row needs no sort: the UPDATE returns it as the claim statement a
	// user would write. Several are put back in claim order.
	const char *sql =
		limit == 1 ? psprintf("%s1 FOR UPDATE SKIP LOCKED) %s", criteria->claim_sql_head,
		                      criteria->claim_sql_update)
		           : psprintf("%s" INT64_FORMAT " FOR UPDATE SKIP LOCKED), u AS (%s) %s",
		                      criteria->claim_sql_head, limit, criteria->claim_sql_update,
		                      criteria->claim_sql_ordered_select);
	Oid argtypes[kClaimParameters] = {TEXTOID, INTERVALOID, UUIDOID, criteria->version_type,
	                                  TIMESTAMPTZOID};
	SPIPlanPtr plan = keep_prepared_plan(
		SPI_prepare_cursor(sql, kClaimParameters, argtypes, CURSOR_OPT_GENERIC_PLAN),
		psprintf("the claim of criteria \"%s\"", criteria->criteria_id));
	criteria->plan_limits[criteria->nplans] = limit;
	criteria->plans[criteria->nplans] = plan;
	++criteria->nplans;
	return plan;
}
