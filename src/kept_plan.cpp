#include "kept_plan.hpp"

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
	SPIPlanPtr plan = SPI_prepare(psprintf(sql_format, schema), nargs, argtypes);
	if (plan == nullptr)
		elog(ERROR, "rollout_ext: could not prepare a statement: %s",
		     SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "rollout_ext: SPI_keepplan failed");
	kept->plan = plan;
	kept->extension_namespace = extension_namespace;
	return plan;
}
