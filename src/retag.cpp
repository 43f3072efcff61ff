// rollout_retag_batch: moves one batch of rows from one version to another,
// skipping rows that are locked (being claimed) or leased (claimed and not
// yet expired). rollout_retag and rollout_phase_out call it in a loop,
// committing between batches.
#include "extension_common.hpp"
#include "postgres_headers.hpp"
#include "sql_text.hpp"
#include "version_guard.hpp"

extern "C" {
#include "access/xact.h"
}

extern "C" {

// rollout_retag and rollout_phase_out commit between batches, which
// PostgreSQL allows only to a CALL outside a transaction block. Drivers open
// one implicitly with autocommit off (PgJDBC, psycopg, psycopg2 by default),
// and the COMMIT inside would fail with a message that names neither the
// procedure nor the cure; this says both before any work is done.
PG_FUNCTION_INFO_V1(rollout_require_autocommit);
Datum rollout_require_autocommit(PG_FUNCTION_ARGS)
{
	const char *procedure = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (IsTransactionBlock())
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
		         errmsg("%s cannot run inside a transaction block", procedure),
		         errdetail("It commits after each batch so that claims and tagging are never "
		                   "blocked for the whole run."),
		         errhint("CALL it with autocommit on: in JDBC, connection.setAutoCommit(true) "
		                 "and a plain CALL statement; in psycopg and psycopg2, "
		                 "connection.autocommit = True.")));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(rollout_retag_batch);
Datum rollout_retag_batch(PG_FUNCTION_ARGS)
{
	for (int i = 0; i < 5; ++i)
		if (PG_ARGISNULL(i))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			                errmsg("table, column, versions and batch size must not be null")));
	const Oid relid = PG_GETARG_OID(0);
	const char *column = quote_identifier(NameStr(*PG_GETARG_NAME(1)));
	const int32 batch_size = PG_GETARG_INT32(4);
	if (batch_size <= 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("batch_size must be positive, not %d", batch_size)));
	const char *table = qualified_table_name(relid);

	StringInfoData sql;
	initStringInfo(&sql);
	appendStringInfo(&sql,
	                 "WITH c AS MATERIALIZED (SELECT tableoid, ctid FROM %s WHERE %s %s $1",
	                 table, column,
	                 extension_operator(get_func_namespace(fcinfo->flinfo->fn_oid), "="));
	// A leased row stays with its claimer until the lease ends, whichever
	// criteria on the table leased it.
	if (!PG_ARGISNULL(5) && !PG_ARGISNULL(6)) {
		Datum *tokens;
		Datum *dues;
		int ntokens;
		int ndues;
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(5), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
		                  &tokens, nullptr, &ntokens);
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(6), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR,
		                  &dues, nullptr, &ndues);
		if (ntokens != ndues)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("lease_token_columns and lease_due_columns differ in length")));
		for (int i = 0; i < ntokens; ++i)
			appendStringInfo(&sql,
			                 " AND NOT (%s IS NOT NULL AND %s OPERATOR(pg_catalog.>) pg_catalog.now())",
			                 quote_identifier(NameStr(*DatumGetName(tokens[i]))),
			                 quote_identifier(NameStr(*DatumGetName(dues[i]))));
	}
	appendStringInfo(&sql,
	                 " LIMIT $3 FOR UPDATE SKIP LOCKED) UPDATE %s t SET %s = $2 FROM c "
	                 "WHERE t.tableoid OPERATOR(pg_catalog.=) c.tableoid "
	                 "AND t.ctid OPERATOR(pg_catalog.=) c.ctid",
	                 table, column);

	const Oid version_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
	Oid argtypes[3] = {version_type, version_type, INT8OID};
	Datum args[3] = {PG_GETARG_DATUM(2), PG_GETARG_DATUM(3), Int64GetDatum(batch_size)};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_retag_batch: SPI_connect failed");
	int rc = 0;
	retag_in_progress = true;
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql.data, 3, argtypes, args, nullptr, false, 0);
	}
	PG_FINALLY();
	{
		retag_in_progress = false;
	}
	PG_END_TRY();
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "rollout_retag_batch: update failed: %s", SPI_result_code_string(rc));
	const uint64 moved = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64(static_cast<int64>(moved));
}

}  // extern "C"
