// Pieces of SQL text that mean the same whatever the caller's search_path:
// the statements the extension prepares name every operator by schema, so a
// look-alike operator in a schema the caller put first is never picked up.
#pragma once

#include "postgres_headers.hpp"

// "OPERATOR(schema.name)" for an operator of the extension, e.g. "=".
const char *extension_operator(Oid extension_namespace, const char *name);

// "OPERATOR(schema.=)" for the default equality operator of a type.
const char *equality_operator(Oid type);
