// Small helpers several parts of the glue need, kept in one place (contrib's
// amcheck keeps its verify_common.c for the same reason).
#pragma once

#include "postgres_headers.hpp"

// The table's schema-qualified name, quoted as SQL needs it.
const char *qualified_table_name(Oid relid);

// The call's trigger data; 39P01 when `function` was not called by the
// trigger manager (`hint` says how it should be installed, or nullptr).
const TriggerData *trigger_call(FunctionCallInfo fcinfo, const char *function, const char *hint);

// The OID of the rollout_version type in the extension's schema.
Oid version_type_oid(Oid extension_namespace);
