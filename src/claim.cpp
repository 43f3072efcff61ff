// rollout_claim and rollout_claim_rows: atomically claim the due rows of the
// caller's version for a criteria. The work is a direct index scan and update
// where the table allows it (see direct_claim.cpp), else one prepared
// statement per criteria (see claim_criteria.cpp); this file resolves the
// arguments, runs one of them, and returns the rows in materialize mode.
#include "claim_criteria.hpp"
#include "claim_token.hpp"
#include "extension_common.hpp"
#include "outcome_stats.hpp"
#include "postgres_headers.hpp"
#include "version_setting.hpp"
#include "version_usable.hpp"

namespace {

struct ClaimRequest {
	const char *criteria_id;
	bool has_max_rows;
	int32 max_rows;
	bool has_version;
	rollout::Version version;
	Oid requested_row_type;  // InvalidOid: the task-queue form
};

// The queue table's name as it can be pasted into SQL.
const char *queue_table_name(const ClaimCriteria *criteria)
{
	return qualified_table_name(criteria->queue_relid);
}

void check_row_type(const ClaimCriteria *criteria, const ClaimRequest &request)
{
	if (request.requested_row_type == InvalidOid) {
		if (!criteria->is_task_queue)
			ereport(ERROR,
			        (errcode(ERRCODE_WRONG_OBJECT_TYPE),
			         errmsg("criteria \"%s\" claims from table \"%s\", not rollout_task_q",
			                criteria->criteria_id, get_rel_name(criteria->queue_relid)),
			         errhint("Use rollout_claim_rows(%s, NULL::%s) for criteria on other tables.",
			                 quote_literal_cstr(criteria->criteria_id),
			                 queue_table_name(criteria))));
	} else if (request.requested_row_type != criteria->row_type) {
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
		                errmsg("criteria \"%s\" claims rows of table \"%s\", not of type %s",
		                       criteria->criteria_id, get_rel_name(criteria->queue_relid),
		                       format_type_be(request.requested_row_type)),
		                errhint("Pass NULL::%s as row_type.", queue_table_name(criteria))));
	}
}

// The caller's version: as_version, else rollout.version. A criteria that
// filters by version and has neither fails closed.
rollout::Version claimer_version(const ClaimCriteria *criteria, const ClaimRequest &request)
{
	rollout::Version version = 0;
	if (criteria->version_match == VersionMatch::any)
		return version;
	if (request.has_version || session_version(&version)) {
		if (request.has_version)
			version = request.version;
		check_version_usable(criteria->extension_namespace, version, VersionUse::claim_rows);
		return version;
	}
	ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
	                errmsg("no rollout version to claim rows of criteria \"%s\" with",
	                       criteria->criteria_id),
	                errdetail("The criteria processes only rows of the claimer's version."),
	                errhint("Pass as_version, or SET rollout.version (SET LOCAL behind a "
	                        "transaction-mode pooler).")));
	pg_unreachable();
}

// The statement returns the row, then its due date and claim token from
// before the claim.
constexpr int kClaimExtraColumns = 2;

// Copies the claimed rows into the result, mapping past dropped columns of
// the row type, which the claim statement does not return, and counts them
// for rollout_stats.
void store_claimed_rows(ReturnSetInfo *rsinfo, const ClaimCriteria *criteria,
                        const ClaimSpec &spec)
{
	TupleDesc result_desc = rsinfo->setDesc;
	TupleDesc claimed_desc = SPI_tuptable->tupdesc;
	if (claimed_desc->natts != criteria->returned_columns + kClaimExtraColumns)
		elog(ERROR, "rollout_claim: claim returned %d columns, expected %d",
		     claimed_desc->natts, criteria->returned_columns + kClaimExtraColumns);
	const bool counting = outcome_stats_enabled();
	const TimestampTz claimed_at = GetCurrentStatementStartTimestamp();
	const AttrNumber version_attnum = criteria->direct.row_version_attnum;
	OutcomeKey outcome =
		counting ? outcome_key(spec.queue_relid, spec.stats_transaction) : OutcomeKey{};

	Datum *claimed_values = static_cast<Datum *>(palloc(claimed_desc->natts * sizeof(Datum)));
	bool *claimed_nulls = static_cast<bool *>(palloc(claimed_desc->natts * sizeof(bool)));
	Datum *values = static_cast<Datum *>(palloc(result_desc->natts * sizeof(Datum)));
	bool *nulls = static_cast<bool *>(palloc(result_desc->natts * sizeof(bool)));

	for (uint64 row = 0; row < SPI_processed; ++row) {
		heap_deform_tuple(SPI_tuptable->vals[row], claimed_desc, claimed_values, claimed_nulls);
		int from = 0;
		for (int i = 0; i < result_desc->natts; ++i) {
			if (TupleDescAttr(result_desc, i)->attisdropped) {
				values[i] = (Datum) 0;
				nulls[i] = true;
			} else if (from < criteria->returned_columns) {
				values[i] = claimed_values[from];
				nulls[i] = claimed_nulls[from];
				++from;
			}
		}
		if (from != criteria->returned_columns)
			elog(ERROR, "rollout_claim: row type of \"%s\" changed during the claim",
			     get_rel_name(criteria->queue_relid));
		if (counting) {
			outcome.has_version = version_attnum != InvalidAttrNumber && !nulls[version_attnum - 1];
			outcome.version = outcome.has_version ? DatumGetInt64(values[version_attnum - 1]) : 0;
			const int due = claimed_desc->natts - 2;
			count_claimed(outcome, claimed_at,
			              claimed_nulls[due] ? claimed_at : DatumGetTimestampTz(claimed_values[due]),
			              !claimed_nulls[claimed_desc->natts - 1]);
		}
		tuplestore_putvalues(rsinfo->setResult, result_desc, values, nulls);
	}
}

// The rows come in due order, so the first row's due date is the lowest.
TimestampTz lowest_claimed_due()
{
	bool isnull;
	const Datum due = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
	                                SPI_tuptable->tupdesc->natts - 1, &isnull);
	return isnull ? DT_NOBEGIN : DatumGetTimestampTz(due);
}

uint64 claim_with_statement(ClaimCriteria *criteria, const ClaimSpec &spec,
                            ReturnSetInfo *rsinfo, TimestampTz *lowest_due)
{
	Interval lease = spec.lease;
	Datum args[kClaimParameters] = {
		CStringGetTextDatum(spec.transaction_id),
		IntervalPGetDatum(&lease),
		UUIDPGetDatum(spec.token),
		Int64GetDatum(spec.version),
		TimestampTzGetDatum(spec.scan_start),
	};
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_claim: SPI_connect failed");
	const int rc =
		SPI_execute_plan(claim_plan(criteria, spec.limit), args, nullptr, false, 0);
	if (rc != SPI_OK_SELECT && rc != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "rollout_claim: claim failed: %s", SPI_result_code_string(rc));
	store_claimed_rows(rsinfo, criteria, spec);
	const uint64 claimed = SPI_processed;
	if (claimed > 0)
		*lowest_due = lowest_claimed_due();
	SPI_finish();
	return claimed;
}

Datum claim(FunctionCallInfo fcinfo, const ClaimRequest &request)
{
	if (RecoveryInProgress())
		ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
		                errmsg("cannot claim rows of criteria \"%s\" on a standby",
		                       request.criteria_id),
		                errdetail("A claim updates the rows it hands out."),
		                errhint("Claim on the primary; the backlog and drain views work here.")));
	ClaimCriteria *criteria = lookup_claim_criteria(fcinfo->flinfo->fn_oid, request.criteria_id);
	check_row_type(criteria, request);
	const rollout::Version version = claimer_version(criteria, request);
	if (request.has_max_rows && request.max_rows <= 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("max_rows must be positive, not %d", request.max_rows)));

	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);

	ClaimSpec spec;
	spec.criteria_id = criteria->criteria_id;
	spec.queue_relid = criteria->queue_relid;
	spec.transaction_id = criteria->transaction_id;
	spec.version = version;
	spec.limit = request.has_max_rows ? request.max_rows : criteria->batch_size;
	spec.scan_start = claim_scan_start(&criteria->positions, version);
	spec.lease = criteria->lease;
	spec.token = new_claim_token(GetCurrentStatementStartTimestamp());
	spec.stats_transaction =
		criteria->direct.has_transaction ? criteria->transaction_id : criteria->criteria_id;

	uint64 claimed = 0;
	TimestampTz lowest_due = DT_NOBEGIN;
	if (!claim_directly(criteria->direct, spec, rsinfo, &claimed, &lowest_due))
		claimed = claim_with_statement(criteria, spec, rsinfo, &lowest_due);
	if (claimed > 0)
		remember_claim_position(&criteria->positions, version, lowest_due);
	return (Datum) 0;
}

// Common arguments: criteria_id, then max_rows and as_version at the given
// positions.
ClaimRequest read_request(FunctionCallInfo fcinfo, int max_rows_arg, int version_arg)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("criteria_id must not be null")));
	ClaimRequest request = {};
	request.criteria_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	request.has_max_rows = !PG_ARGISNULL(max_rows_arg);
	request.max_rows = request.has_max_rows ? PG_GETARG_INT32(max_rows_arg) : 0;
	request.has_version = !PG_ARGISNULL(version_arg);
	request.version = request.has_version ? DatumGetInt64(PG_GETARG_DATUM(version_arg)) : 0;
	return request;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(rollout_claim);
Datum rollout_claim(PG_FUNCTION_ARGS)
{
	ClaimRequest request = read_request(fcinfo, 1, 2);
	request.requested_row_type = InvalidOid;
	return claim(fcinfo, request);
}

PG_FUNCTION_INFO_V1(rollout_claim_rows);
Datum rollout_claim_rows(PG_FUNCTION_ARGS)
{
	ClaimRequest request = read_request(fcinfo, 2, 3);
	request.requested_row_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	if (!type_is_rowtype(request.requested_row_type))
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
		                errmsg("row_type must be a table's row type, not %s",
		                       format_type_be(request.requested_row_type)),
		                errhint("Pass NULL::my_table as row_type.")));
	return claim(fcinfo, request);
}

}  // extern "C"
