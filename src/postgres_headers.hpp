// The PostgreSQL headers every glue file needs, with C linkage, then the
// undefs that keep PostgreSQL's libc replacement macros away from the C++
// library. Include it first; a file that needs more headers includes them
// after it, inside its own extern "C" block.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "utils/array.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_operator.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/relation.h"
#include "access/xlog.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/uuid.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
}

#ifdef snprintf
#undef snprintf
#endif
#ifdef vsnprintf
#undef vsnprintf
#endif
#ifdef sprintf
#undef sprintf
#endif
#ifdef vfprintf
#undef vfprintf
#endif
#ifdef fprintf
#undef fprintf
#endif
#ifdef printf
#undef printf
#endif
#ifdef unlink
#undef unlink
#endif
#ifdef bind
#undef bind
#endif

// rollout_version is declared PASSEDBYVALUE, which needs 8-byte Datums.
static_assert(SIZEOF_DATUM == 8, "rollout_ext needs a 64-bit build (8-byte Datum)");
