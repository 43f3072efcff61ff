#include "extension_common.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/syscache.h"
}

const char *qualified_table_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
	                                  get_rel_name(relid));
}

const TriggerData *trigger_call(FunctionCallInfo fcinfo, const char *function, const char *hint)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("%s() was not called by the trigger manager", function),
		                hint != nullptr ? errhint("%s", hint) : 0));
	return reinterpret_cast<const TriggerData *>(fcinfo->context);
}

Oid version_type_oid(Oid extension_namespace)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("rollout_version"),
	                       ObjectIdGetDatum(extension_namespace));
}
