// The statistical test of the progressive rollout's gate, for SQL: the plan
// itself (rollout_start_plan, rollout_advance) is PL/pgSQL in the install
// script, where its decisions can be read.
#include "core/proportion_test.hpp"
#include "postgres_headers.hpp"

#include <cmath>

extern "C" {

PG_FUNCTION_INFO_V1(rollout_failure_p_value);
Datum rollout_failure_p_value(PG_FUNCTION_ARGS)
{
	const int64 target_failed = PG_GETARG_INT64(0);
	const int64 target_finished = PG_GETARG_INT64(1);
	const int64 base_failed = PG_GETARG_INT64(2);
	const int64 base_finished = PG_GETARG_INT64(3);
	const double p = rollout::failure_worse_p_value(target_failed, target_finished, base_failed,
	                                                base_finished);
	if (std::isnan(p))
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("failures must be between 0 and the rows finished, not %lld of %lld "
		                "(target) and %lld of %lld (base)",
		                static_cast<long long>(target_failed),
		                static_cast<long long>(target_finished),
		                static_cast<long long>(base_failed),
		                static_cast<long long>(base_finished))));
	PG_RETURN_FLOAT8(p);
}

}  // extern "C"
