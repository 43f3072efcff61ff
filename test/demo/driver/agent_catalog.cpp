#include "agent_catalog.hpp"

#include "handlers.hpp"

namespace demo {

namespace {

// Each claim returns: key, row version, claim token, order key, attempt, extra.
constexpr const char *kClaimTasks =
	"SELECT task_q_key::text, rollout_version::text, claim_token::text, data_key, "
	"claim_count::text, transaction_id FROM rollout_claim($1, $2::int)";
constexpr const char *kClaimAsyncRequests =
	"SELECT async_request_key, rollout_version::text, rollout_claim_token::text, "
	"coalesce(message, ''), error_count::text, api_name "
	"FROM rollout_claim_rows($1, NULL::yfs_async_request, $2::int)";
constexpr const char *kClaimInvoices =
	"SELECT order_invoice_key, rollout_version::text, rollout_claim_token::text, order_header_key, "
	"status, invoice_type FROM rollout_claim_rows($1, NULL::yfs_order_invoice, $2::int)";
constexpr const char *kClaimCollections =
	"SELECT order_header_key, rollout_version::text, collection_claim_token::text, "
	"order_header_key, coalesce(payment_status, ''), document_type "
	"FROM rollout_claim_rows($1, NULL::yfs_order_header, $2::int)";
constexpr const char *kClaimCharges =
	"SELECT charge_transaction_key, rollout_version::text, rollout_claim_token::text, "
	"order_header_key, status, charge_type "
	"FROM rollout_claim_rows($1, NULL::yfs_charge_transaction, $2::int)";
constexpr const char *kClaimMonitored =
	"SELECT order_header_key, rollout_version::text, monitor_claim_token::text, order_header_key, "
	"'', document_type FROM rollout_claim_rows($1, NULL::yfs_order_header, $2::int)";

}  // namespace

const std::vector<AgentSpec> &reference_agents()
{
	static const std::vector<AgentSpec> agents = {
		{"SCHEDULE_ORDER", kSchedule,
		 {"SCHEDULE.0001", "SCHEDULE.0003", "SCHEDULE.0005", "SCHEDULE.0006"}, true, kClaimTasks,
		 &schedule_order},
		{"CREATE_CHAINED_ORDER", kChained,
		 {"CHAINED_ORDER_CREATE", "CHAINED_ORDER_CREATE.0005", "CHAINED_ORDER_CREATE.0006"}, true,
		 kClaimTasks, &create_chained_order},
		{"RELEASE_ORDER", kRelease, {"RELEASE.0001", "RELEASE.0005", "RELEASE.0006"}, true,
		 kClaimTasks, &release_order},
		{"ASYNC_REQUEST_PROCESSOR", kAsync, {"AGENT.ASYNC_REQUEST_PROCESSOR"}, false,
		 kClaimAsyncRequests, &process_async_request},
		{"CLOSE_ORDER", kClose, {"CLOSE_ORDER.0001", "CLOSE_ORDER.0003", "CLOSE_ORDER.0005"}, true,
		 kClaimTasks, &close_order},
		{"SEND_INVOICE", kInvoice, {"AGENT.SEND_INVOICE"}, false, kClaimInvoices, &send_invoice},
		{"REQUEST_COLLECTION", kCollect, {"PAYMENT_COLLECTION", "PAYMENT_COLLECTION.0003"}, false,
		 kClaimCollections, &request_collection},
		{"EXECUTE_COLLECTION", kExecute, {"PAYMENT_EXECUTION", "PAYMENT_EXECUTION.0003"}, false,
		 kClaimCharges, &execute_collection},
		{"ORDER_MONITOR", kMonitor, {"AGENT.ORDER_MONITOR"}, false, kClaimMonitored, &monitor_order},
	};
	return agents;
}

std::vector<std::string> claimed_criteria()
{
	std::vector<std::string> all;
	for (const AgentSpec &agent : reference_agents())
		all.insert(all.end(), agent.criteria.begin(), agent.criteria.end());
	return all;
}

}  // namespace demo
