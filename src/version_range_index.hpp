// Whether a queue table has an index that keeps each version's rows in due
// order, so an exact-version claim can be written to need it (see
// build_claim_sql in claim_criteria.cpp) or run on it directly (see
// direct_claim.cpp).
#pragma once

#include "postgres_headers.hpp"

// A valid btree index whose leading columns are the transaction column (when
// the criteria has one, else nullptr), the version column and the due column,
// without expressions, and either not partial or partial on NOT hold only;
// InvalidOid when there is none. With a key column, the key must be the next
// column, so the index also breaks ties between equal due dates.
Oid version_range_index(Oid relid, const char *transaction_column, const char *version_column,
                        const char *due_column, const char *key_column, const char *hold_column);
