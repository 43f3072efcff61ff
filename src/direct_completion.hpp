// The completion without a statement: rollout_complete finds the task row by
// its primary key, checks the claim token, and deletes the row with a heap
// delete that waits for a concurrent writer as the DELETE would, without
// starting an executor. When that writer changed the row, the statement
// decides, rechecking the token on the row's newest version.
#pragma once

#include "postgres_headers.hpp"

enum class DirectCompletion {
	completed,        // the row was deleted
	stale,            // no visible row has that key and token
	needs_statement,  // nothing was done; run the DELETE
};

DirectCompletion complete_directly(Oid task_q_relid, int64 key, const pg_uuid_t *token);
