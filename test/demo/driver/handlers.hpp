// executeJob of each reference agent: the work on one claimed row, inside the
// transaction that also ends the claim.
#pragma once

#include "agent.hpp"

namespace demo {

// Task-queue agents (task_agents.cpp).
Outcome schedule_order(WorkContext &ctx, const ClaimedRow &row);
Outcome create_chained_order(WorkContext &ctx, const ClaimedRow &row);
Outcome release_order(WorkContext &ctx, const ClaimedRow &row);
Outcome close_order(WorkContext &ctx, const ClaimedRow &row);

// Driver-table agents (table_agents.cpp).
Outcome process_async_request(WorkContext &ctx, const ClaimedRow &row);
Outcome send_invoice(WorkContext &ctx, const ClaimedRow &row);
Outcome request_collection(WorkContext &ctx, const ClaimedRow &row);
Outcome execute_collection(WorkContext &ctx, const ClaimedRow &row);
Outcome monitor_order(WorkContext &ctx, const ClaimedRow &row);

}  // namespace demo
