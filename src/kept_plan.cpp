#include "kept_plan.hpp"

SPIPlanPtr keep_prepared_plan(SPIPlanPtr plan, const char *what)
{
	if (plan == nullptr)
		elog(ERROR, "rollout_ext: could not prepare %s: %s", what,
		     SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "rollout_ext: could not keep the plan of %s", what);
	return plan;
}

SPIPlanPtr kept_plan(KeptPlan *kept, const char *sql_format, Oid extension_namespace, int nargs,
                     Oid *argtypes)
{
	if (kept->plan != nullptr && kept->extension_namespace == extension_namespace)
		return kept->plan;
	if (kept->plan != nullptr) {
		SPI_freeplan(kept->plan);
		kept->plan = nullptr;
	}
	const char *schema = quote_identifier(get_namespace_name(extension_namespace));
	SPIPlanPtr plan =
		keep_prepared_plan(SPI_prepare(psprintf(sql_format, schema), nargs, argtypes), "a statement");
	kept->plan = plan;
	kept->extension_namespace = extension_namespace;
	return plan;
}
