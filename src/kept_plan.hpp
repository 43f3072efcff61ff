// Statements of the extension prepared once per backend and kept across
// calls. plancache replans them after DDL; they are prepared anew when the
// extension's schema is no longer the one they name (it was dropped and
// created again in another schema during the session).
#pragma once

#include "postgres_headers.hpp"

struct KeptPlan {
	SPIPlanPtr plan;
	Oid extension_namespace;
};

// Keeps a plan SPI_prepare (or SPI_prepare_cursor) returned for the rest of
// the backend's life; raises an error naming `what` when preparing failed.
SPIPlanPtr keep_prepared_plan(SPIPlanPtr plan, const char *what);

// The kept plan of sql_format, whose every %1$s is the extension's schema.
// Call inside SPI.
SPIPlanPtr kept_plan(KeptPlan *kept, const char *sql_format, Oid extension_namespace, int nargs,
                     Oid *argtypes);
