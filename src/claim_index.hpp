// Finding the index that keeps a criteria's candidate rows in claim order:
// each version's rows in due order (exact-version criteria), or all rows in
// due order (the others). An exact-version claim statement is written to need
// the first kind (see build_claim_sql in claim_criteria.cpp); the direct
// claim walks either (see direct_claim.cpp).
#pragma once

#include "postgres_headers.hpp"

// A valid btree index whose leading columns are the transaction column (when
// the criteria has one, else nullptr), the version column (when given, else
// nullptr) and the due column, without expressions, and either not partial or
// partial on NOT hold only; InvalidOid when there is none. With a key column,
// the key must be the next column, so the index also breaks ties between
// equal due dates.
Oid claim_order_index(Oid relid, const char *transaction_column, const char *version_column,
                      const char *due_column, const char *key_column, const char *hold_column);
