// The final audit, read back from the database (demo_audit and the order
// tables) and printed as a table: orders and rows per version, and the
// invariants of a staged rollout, each with its expected value.
#pragma once

#include "model.hpp"
#include "pg.hpp"
#include "rollout_script.hpp"

namespace demo {

// Prints the audit; true when every invariant holds.
bool run_final_audit(PgConn &control, const Versions &versions, const Stats &stats,
                     const RolloutResult &rollout, double total_seconds);

}  // namespace demo
