// SQL-callable functions of the rollout_version type: I/O, comparison,
// hashing, casts and formatting. The representation is an int64 Datum.
#include "postgres_headers.hpp"
#include "version_errors.hpp"

#define PG_GETARG_ROLLOUT_VERSION(n) DatumGetInt64(PG_GETARG_DATUM(n))
#define PG_RETURN_ROLLOUT_VERSION(v) return Int64GetDatum(v)

static Node *soft_error_context(FunctionCallInfo fcinfo)
{
#if PG_VERSION_NUM >= 160000
	return fcinfo->context;
#else
	(void) fcinfo;
	return nullptr;
#endif
}

static rollout::Version version_from_signed(int64 value)
{
	if (value < 0)
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
		                errmsg("value %lld is out of range for type rollout_version",
		                       static_cast<long long>(value)),
		                errdetail("A rollout version cannot be negative.")));
	return value;
}

extern "C" {

PG_FUNCTION_INFO_V1(rollout_version_in);
Datum rollout_version_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	rollout::Version value;

	if (!parse_version_or_report(input, &value, soft_error_context(fcinfo)))
		PG_RETURN_NULL();  // reached only for a soft error on PostgreSQL 16+
	PG_RETURN_ROLLOUT_VERSION(value);
}

PG_FUNCTION_INFO_V1(rollout_version_out);
Datum rollout_version_out(PG_FUNCTION_ARGS)
{
	char *buf = static_cast<char *>(palloc(rollout::kNumericBufferSize));
	rollout::format_numeric(PG_GETARG_ROLLOUT_VERSION(0), buf);
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(rollout_version_recv);
Datum rollout_version_recv(PG_FUNCTION_ARGS)
{
	StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
	PG_RETURN_ROLLOUT_VERSION(version_from_signed(pq_getmsgint64(buf)));
}

PG_FUNCTION_INFO_V1(rollout_version_send);
Datum rollout_version_send(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	pq_begintypsend(&buf);
	pq_sendint64(&buf, PG_GETARG_ROLLOUT_VERSION(0));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(rollout_version_format);
Datum rollout_version_format(PG_FUNCTION_ARGS)
{
	char buf[rollout::kDottedBufferSize];
	rollout::format_dotted(PG_GETARG_ROLLOUT_VERSION(0), buf);
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

PG_FUNCTION_INFO_V1(rollout_version_from_bigint);
Datum rollout_version_from_bigint(PG_FUNCTION_ARGS)
{
	PG_RETURN_ROLLOUT_VERSION(version_from_signed(PG_GETARG_INT64(0)));
}

PG_FUNCTION_INFO_V1(rollout_version_from_integer);
Datum rollout_version_from_integer(PG_FUNCTION_ARGS)
{
	PG_RETURN_ROLLOUT_VERSION(version_from_signed(PG_GETARG_INT32(0)));
}

// The implicit cast from text and varchar: drivers bind strings as text
// (psycopg) or varchar (PgJDBC's setString), and a function argument or an
// INSERT into the version column takes only an implicit cast.
PG_FUNCTION_INFO_V1(rollout_version_from_text);
Datum rollout_version_from_text(PG_FUNCTION_ARGS)
{
	rollout::Version value;
	parse_version_or_report(text_to_cstring(PG_GETARG_TEXT_PP(0)), &value, nullptr);
	PG_RETURN_ROLLOUT_VERSION(value);
}

PG_FUNCTION_INFO_V1(rollout_version_cmp);
Datum rollout_version_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(rollout::compare_versions(PG_GETARG_ROLLOUT_VERSION(0),
	                                          PG_GETARG_ROLLOUT_VERSION(1)));
}

#define ROLLOUT_VERSION_COMPARISON(name, op)                                                \
	PG_FUNCTION_INFO_V1(name);                                                              \
	Datum name(PG_FUNCTION_ARGS)                                                            \
	{                                                                                       \
		PG_RETURN_BOOL(rollout::compare_versions(PG_GETARG_ROLLOUT_VERSION(0),              \
		                                         PG_GETARG_ROLLOUT_VERSION(1)) op 0);       \
	}

ROLLOUT_VERSION_COMPARISON(rollout_version_eq, ==)
ROLLOUT_VERSION_COMPARISON(rollout_version_ne, !=)
ROLLOUT_VERSION_COMPARISON(rollout_version_lt, <)
ROLLOUT_VERSION_COMPARISON(rollout_version_le, <=)
ROLLOUT_VERSION_COMPARISON(rollout_version_gt, >)
ROLLOUT_VERSION_COMPARISON(rollout_version_ge, >=)

PG_FUNCTION_INFO_V1(rollout_version_smaller);
Datum rollout_version_smaller(PG_FUNCTION_ARGS)
{
	const rollout::Version a = PG_GETARG_ROLLOUT_VERSION(0);
	const rollout::Version b = PG_GETARG_ROLLOUT_VERSION(1);
	PG_RETURN_ROLLOUT_VERSION(rollout::compare_versions(a, b) <= 0 ? a : b);
}

PG_FUNCTION_INFO_V1(rollout_version_larger);
Datum rollout_version_larger(PG_FUNCTION_ARGS)
{
	const rollout::Version a = PG_GETARG_ROLLOUT_VERSION(0);
	const rollout::Version b = PG_GETARG_ROLLOUT_VERSION(1);
	PG_RETURN_ROLLOUT_VERSION(rollout::compare_versions(a, b) >= 0 ? a : b);
}

PG_FUNCTION_INFO_V1(rollout_version_hash);
Datum rollout_version_hash(PG_FUNCTION_ARGS)
{
	const rollout::Version v = PG_GETARG_ROLLOUT_VERSION(0);
	return hash_any(reinterpret_cast<const unsigned char *>(&v), sizeof(v));
}

PG_FUNCTION_INFO_V1(rollout_version_hash_extended);
Datum rollout_version_hash_extended(PG_FUNCTION_ARGS)
{
	const rollout::Version v = PG_GETARG_ROLLOUT_VERSION(0);
	return hash_any_extended(reinterpret_cast<const unsigned char *>(&v), sizeof(v),
	                         PG_GETARG_INT64(1));
}

}  // extern "C"
