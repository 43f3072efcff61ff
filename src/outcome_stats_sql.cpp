// The SQL side of rollout_stats: its rows, their reset, and the counting
// entry point of the PL/pgSQL completions of driver tables.
#include "outcome_stats.hpp"
#include "outcome_stats_table.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace {

void require_preloaded()
{
	if (stats_hash == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("rollout_stats must be loaded via \"shared_preload_libraries\""),
		                errhint("Add rollout_ext to shared_preload_libraries in postgresql.conf "
		                        "and restart the server.")));
}

Datum histogram_array(const int64 *counts)
{
	Datum elements[rollout::kHistogramBuckets];
	for (int i = 0; i < rollout::kHistogramBuckets; ++i)
		elements[i] = Int64GetDatum(counts[i]);
	return PointerGetDatum(construct_array(elements, rollout::kHistogramBuckets, INT8OID, 8,
	                                       FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

// A histogram passed from SQL: exactly the buckets rollout_stats has, NULL
// counting as 0.
void histogram_argument(ArrayType *array, int64 counts[rollout::kHistogramBuckets])
{
	Datum *elements;
	bool *element_nulls;
	int n;
	deconstruct_array(array, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elements,
	                  &element_nulls, &n);
	if (ARR_NDIM(array) > 1 || n != rollout::kHistogramBuckets)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("a histogram has %d buckets, not %d", rollout::kHistogramBuckets, n)));
	for (int i = 0; i < n; ++i)
		counts[i] = element_nulls[i] ? 0 : DatumGetInt64(elements[i]);
}

// A quantile as an interval, or NULL (nothing counted).
void quantile(const int64 *counts, double q, Datum *value, bool *isnull)
{
	const double ms = rollout::histogram_quantile_ms(counts, q);
	*isnull = ms < 0;
	if (*isnull)
		return;
	auto *interval = static_cast<Interval *>(palloc0(sizeof(Interval)));
	interval->time = static_cast<TimeOffset>(ms * 1000.0);
	*value = IntervalPGetDatum(interval);
}

enum StatsColumn {
	kQueueTable,
	kTransaction,
	kVersion,
	kClaimed,
	kCompleted,
	kRetried,
	kRefused,
	kExpired,
	kParked,
	kWorkTime,
	kWorkP50,
	kWorkP95,
	kWorkP99,
	kWaitTime,
	kWaitP50,
	kWaitP95,
	kWaitP99,
	kSince,
	kOverflowed,
	kStatsColumns
};

}  // namespace

extern "C" {

// One row per key of the current database; the overflow row, if any, has no
// table, transaction or version.
PG_FUNCTION_INFO_V1(rollout_stats_rows);
Datum rollout_stats_rows(PG_FUNCTION_ARGS)
{
	require_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	if (rsinfo->setDesc->natts != kStatsColumns)
		elog(ERROR, "rollout_stats_rows: expected %d result columns", kStatsColumns);

	LWLockAcquire(stats_shared->lock, LW_SHARED);
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, stats_hash);
	while (auto *entry = static_cast<StatsEntry *>(hash_seq_search(&scan))) {
		if (entry->key.dbid != MyDatabaseId)
			continue;
		StatsCounters c;
		SpinLockAcquire(&entry->mutex);
		c = entry->counters;
		SpinLockRelease(&entry->mutex);
		const bool overflow_row = entry->key.version == kOverflowVersion;

		Datum values[kStatsColumns];
		bool nulls[kStatsColumns] = {};
		values[kQueueTable] = ObjectIdGetDatum(entry->key.relid);
		nulls[kQueueTable] = overflow_row;
		values[kTransaction] = CStringGetTextDatum(entry->transaction);
		nulls[kTransaction] = overflow_row || !entry->key.transaction_known;
		values[kVersion] = Int64GetDatum(entry->key.version);
		nulls[kVersion] = entry->key.version < 0;
		values[kClaimed] = Int64GetDatum(c.claimed);
		values[kCompleted] = Int64GetDatum(c.completed);
		values[kRetried] = Int64GetDatum(c.retried);
		values[kRefused] = Int64GetDatum(c.refused);
		values[kExpired] = Int64GetDatum(c.expired);
		values[kParked] = Int64GetDatum(c.parked);
		values[kWorkTime] = histogram_array(c.work);
		quantile(c.work, 0.50, &values[kWorkP50], &nulls[kWorkP50]);
		quantile(c.work, 0.95, &values[kWorkP95], &nulls[kWorkP95]);
		quantile(c.work, 0.99, &values[kWorkP99], &nulls[kWorkP99]);
		values[kWaitTime] = histogram_array(c.wait);
		quantile(c.wait, 0.50, &values[kWaitP50], &nulls[kWaitP50]);
		quantile(c.wait, 0.95, &values[kWaitP95], &nulls[kWaitP95]);
		quantile(c.wait, 0.99, &values[kWaitP99], &nulls[kWaitP99]);
		values[kSince] = TimestampTzGetDatum(entry->since);
		values[kOverflowed] = Int64GetDatum(c.overflowed);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(stats_shared->lock);
	return (Datum) 0;
}

// Drops the current database's keys that match every argument given (NULL
// matches all); their counting starts again at the next outcome. The
// overflow row goes with a reset of everything.
PG_FUNCTION_INFO_V1(rollout_stats_reset);
Datum rollout_stats_reset(PG_FUNCTION_ARGS)
{
	require_preloaded();
	const bool by_table = !PG_ARGISNULL(0);
	const Oid relid = by_table ? PG_GETARG_OID(0) : InvalidOid;
	const bool by_transaction = !PG_ARGISNULL(1);
	const char *transaction = by_transaction ? text_to_cstring(PG_GETARG_TEXT_PP(1)) : nullptr;
	const bool by_version = !PG_ARGISNULL(2);
	const int64 version = by_version ? DatumGetInt64(PG_GETARG_DATUM(2)) : 0;
	const bool everything = !by_table && !by_transaction && !by_version;

	LWLockAcquire(stats_shared->lock, LW_EXCLUSIVE);
	HASH_SEQ_STATUS scan;
	hash_seq_init(&scan, stats_hash);
	while (auto *entry = static_cast<StatsEntry *>(hash_seq_search(&scan))) {
		if (entry->key.dbid != MyDatabaseId)
			continue;
		const bool overflow_row = entry->key.version == kOverflowVersion;
		if (overflow_row ? !everything
		                 : ((by_table && entry->key.relid != relid) ||
		                    (by_version && entry->key.version != version) ||
		                    (by_transaction && (!entry->key.transaction_known ||
		                                        strcmp(entry->transaction, transaction) != 0))))
			continue;
		hash_search(stats_hash, &entry->key, HASH_REMOVE, nullptr);
		if (!overflow_row)
			--stats_shared->keys;
	}
	LWLockRelease(stats_shared->lock);
	PG_RETURN_VOID();
}

// The q-quantile of a work_time or wait_time histogram, or of several summed
// bucket by bucket (the histograms of several keys); NULL when it is empty.
PG_FUNCTION_INFO_V1(rollout_histogram_quantile);
Datum rollout_histogram_quantile(PG_FUNCTION_ARGS)
{
	const double q = PG_GETARG_FLOAT8(1);
	if (!(q > 0 && q <= 1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("q must be above 0 and at most 1, not %g", q)));
	int64 counts[rollout::kHistogramBuckets];
	histogram_argument(PG_GETARG_ARRAYTYPE_P(0), counts);
	Datum value;
	bool isnull;
	quantile(counts, q, &value, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	return value;
}

// How many durations of a histogram are above a threshold in milliseconds:
// the progressive rollout's gate counts the target's and the base's rows
// slower than max_work_time_ratio x the base's p95 with it.
PG_FUNCTION_INFO_V1(rollout_histogram_count_above);
Datum rollout_histogram_count_above(PG_FUNCTION_ARGS)
{
	int64 counts[rollout::kHistogramBuckets];
	histogram_argument(PG_GETARG_ARRAYTYPE_P(0), counts);
	PG_RETURN_FLOAT8(rollout::histogram_count_above_ms(counts, PG_GETARG_FLOAT8(1)));
}

// rollout_complete_rows and rollout_retry_rows (PL/pgSQL) count here what
// their UPDATE did: outcome is 'completed', 'retried' or 'refused'.
PG_FUNCTION_INFO_V1(rollout_stats_count_end);
Datum rollout_stats_count_end(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("queue_table and outcome must not be null")));
	if (!outcome_stats_enabled())
		PG_RETURN_VOID();
	OutcomeKey key =
		outcome_key(PG_GETARG_OID(0), PG_ARGISNULL(1) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	key.has_version = !PG_ARGISNULL(2);
	if (key.has_version)
		key.version = DatumGetInt64(PG_GETARG_DATUM(2));
	const char *outcome = text_to_cstring(PG_GETARG_TEXT_PP(3));
	ClaimEnd end;
	if (strcmp(outcome, "completed") == 0)
		end = ClaimEnd::completed;
	else if (strcmp(outcome, "retried") == 0)
		end = ClaimEnd::retried;
	else if (strcmp(outcome, "refused") == 0)
		end = ClaimEnd::refused;
	else if (strcmp(outcome, "parked") == 0)
		end = ClaimEnd::parked;
	else
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("unknown claim outcome \"%s\"", outcome)));
	count_claim_end(key, end, PG_ARGISNULL(4) ? nullptr : PG_GETARG_UUID_P(4));
	PG_RETURN_VOID();
}

}  // extern "C"
