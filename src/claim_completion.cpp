// rollout_complete and rollout_retry: the fenced end of a task-queue claim.
// They run once per task on every agent's hot path, so each keeps one
// prepared plan per backend instead of going through PL/pgSQL, and a
// completion deletes the row directly where it can (direct_completion.cpp).
#include "direct_completion.hpp"
#include "kept_plan.hpp"
#include "outcome_stats.hpp"
#include "postgres_headers.hpp"

namespace {

// Both return the row's transaction and version, for rollout_stats, and
// whether the retry parked the row.
constexpr const char *kCompleteSql =
	"DELETE FROM %1$s.rollout_task_q WHERE task_q_key OPERATOR(pg_catalog.=) $1 "
	"AND claim_token OPERATOR(pg_catalog.=) $2 RETURNING transaction_id, rollout_version, false";
// A row claimed as often as the smallest max_attempts of the criteria reading
// its transaction is parked instead: held, so no claim sees it, with its due
// date left as it was, until rollout_release_parked.
constexpr const char *kRetrySql =
	"UPDATE %1$s.rollout_task_q t SET claim_token = NULL, "
	"(available_date, hold_flag, parked_at) = (SELECT "
	"CASE WHEN a.parks THEN t.available_date "
	"ELSE pg_catalog.statement_timestamp() OPERATOR(pg_catalog.+) $3 END, "
	"t.hold_flag OR a.parks, CASE WHEN a.parks THEN pg_catalog.statement_timestamp() END "
	"FROM (SELECT COALESCE(t.claim_count OPERATOR(pg_catalog.>=) "
	"pg_catalog.min(c.max_attempts), false) AS parks FROM %1$s.rollout_criteria c "
	"WHERE c.queue_table::pg_catalog.oid OPERATOR(pg_catalog.=) t.tableoid "
	"AND c.transaction_id OPERATOR(pg_catalog.=) t.transaction_id) a) "
	"WHERE t.task_q_key OPERATOR(pg_catalog.=) $1 AND t.claim_token OPERATOR(pg_catalog.=) $2 "
	"RETURNING t.transaction_id, t.rollout_version, t.parked_at IS NOT NULL";
// A refused completion or retry is counted for the row, if it is still there.
constexpr const char *kRowKeySql =
	"SELECT transaction_id, rollout_version FROM %1$s.rollout_task_q "
	"WHERE task_q_key OPERATOR(pg_catalog.=) $1";

KeptPlan complete_plan = {};
KeptPlan retry_plan = {};
KeptPlan row_key_plan = {};

// The transaction and version of the first row of the last SPI result.
OutcomeKey returned_outcome(Oid task_q)
{
	if (SPI_processed == 0)
		return outcome_key(task_q, nullptr);
	bool isnull;
	HeapTuple row = SPI_tuptable->vals[0];
	const Datum transaction = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull);
	OutcomeKey outcome = outcome_key(task_q, isnull ? nullptr : TextDatumGetCString(transaction));
	const Datum version = SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull);
	outcome.has_version = !isnull;
	outcome.version = isnull ? 0 : DatumGetInt64(version);
	return outcome;
}

// Runs a fenced statement; true when it changed the row. Counts the outcome
// for rollout_stats: `end` (or a parking, as the statement says) when it
// changed the row, else a refusal.
bool run_fenced(KeptPlan *kept, const char *sql_format, Oid fn_oid, int nargs, Oid *argtypes,
                Datum *args, int expected, ClaimEnd end)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_ext: SPI_connect failed");
	const Oid schema = get_func_namespace(fn_oid);
	SPIPlanPtr plan = kept_plan(kept, sql_format, schema, nargs, argtypes);
	const int rc = SPI_execute_plan(plan, args, nullptr, false, 0);
	if (rc != expected)
		elog(ERROR, "rollout_ext: completion failed: %s", SPI_result_code_string(rc));
	const bool changed = SPI_processed > 0;
	if (outcome_stats_enabled()) {
		bool isnull;
		if (changed && DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3,
		                                          &isnull)))
			end = ClaimEnd::parked;
		const Oid task_q = get_relname_relid("rollout_task_q", schema);
		if (!changed) {
			Oid key_type = INT8OID;
			SPIPlanPtr lookup = kept_plan(&row_key_plan, kRowKeySql, schema, 1, &key_type);
			if (SPI_execute_plan(lookup, args, nullptr, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "rollout_ext: reading the refused row failed");
		}
		count_claim_end(returned_outcome(task_q), changed ? end : ClaimEnd::refused,
		                DatumGetUUIDP(args[1]));
	}
	SPI_finish();
	return changed;
}

}  // namespace

extern "C" {

// A NULL key or token matches no row: the completion is stale, not an error.
PG_FUNCTION_INFO_V1(rollout_complete);
Datum rollout_complete(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	const Oid task_q =
		get_relname_relid("rollout_task_q", get_func_namespace(fcinfo->flinfo->fn_oid));
	switch (complete_directly(task_q, PG_GETARG_INT64(0), PG_GETARG_UUID_P(1))) {
	case DirectCompletion::completed:
		PG_RETURN_BOOL(true);
	case DirectCompletion::stale:
		PG_RETURN_BOOL(false);
	case DirectCompletion::needs_statement:
		break;
	}
	Oid argtypes[2] = {INT8OID, UUIDOID};
	Datum args[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};
	PG_RETURN_BOOL(run_fenced(&complete_plan, kCompleteSql, fcinfo->flinfo->fn_oid, 2, argtypes,
	                          args, SPI_OK_DELETE_RETURNING, ClaimEnd::completed));
}

PG_FUNCTION_INFO_V1(rollout_retry);
Datum rollout_retry(PG_FUNCTION_ARGS)
{
	Datum zero = DirectFunctionCall7(make_interval, Int32GetDatum(0), Int32GetDatum(0),
	                                 Int32GetDatum(0), Int32GetDatum(0), Int32GetDatum(0),
	                                 Int32GetDatum(0), Float8GetDatum(0.0));
	if (PG_ARGISNULL(2) || DatumGetBool(DirectFunctionCall2(interval_lt, PG_GETARG_DATUM(2), zero)))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("delay must be zero or positive, not %s",
		                       PG_ARGISNULL(2) ? "NULL"
		                                       : DatumGetCString(DirectFunctionCall1(
		                                             interval_out, PG_GETARG_DATUM(2))))));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	Oid argtypes[3] = {INT8OID, UUIDOID, INTERVALOID};
	Datum args[3] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
	PG_RETURN_BOOL(run_fenced(&retry_plan, kRetrySql, fcinfo->flinfo->fn_oid, 3, argtypes, args,
	                          SPI_OK_UPDATE_RETURNING, ClaimEnd::retried));
}

}  // extern "C"
