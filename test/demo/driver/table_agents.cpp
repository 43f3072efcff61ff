// Async Request Processor, Send Invoice, Request Collection, Execute
// Collection and Order Monitor: driven by their own tables, claimed with
// rollout_claim_rows.
#include "chance.hpp"
#include "handlers.hpp"
#include "work.hpp"

#include <cstdlib>

namespace demo {

namespace {

constexpr int kAsyncErrorPercent = 8;
constexpr int kAsyncMaxInjected = 2;  // stays well below the schema's 5 (max_errors_reached)
constexpr int kPaymentErrorPercent = 6;
constexpr const char *kRetryDelay = "1 second";
constexpr const char *kMonitorInterval = "2 seconds";
constexpr double kAlertAfterSeconds = 4;

void add_invoice(PgConn &conn, const OrderHeader &order, const char *type)
{
	conn.exec("INSERT INTO yfs_order_invoice (order_invoice_key, order_header_key, invoice_no, "
	          "invoice_type, total_amount) VALUES ('inv-' || $1, $1, 'INV-' || $2, $3, $4::numeric)",
	          {order.key, order.order_no, std::string(type), order.total_amount});
}

}  // namespace

// AGENT.ASYNC_REQUEST_PROCESSOR: runs the queued API. A failure counts an
// error and retries at the reprocess interval; success deletes the request,
// fenced by the claim token (rollout_complete_rows cannot end this claim: the
// table's due column is NOT NULL).
Outcome process_async_request(WorkContext &ctx, const ClaimedRow &row)
{
	const int errors = static_cast<int>(std::strtol(row.attempt.c_str(), nullptr, 10));
	if (errors < kAsyncMaxInjected &&
	    chance(ctx.options.seed, row.key, kSaltAsyncError + static_cast<unsigned>(errors),
	           kAsyncErrorPercent)) {
		ctx.conn.exec("UPDATE yfs_async_request SET error_count = error_count + 1, last_error = $2 "
		              "WHERE async_request_key = $1",
		              {row.key, "simulated " + row.extra + " failure"});
		return {Finish::Retry, kRetryDelay, true, row.extra + " failed, error " + std::to_string(errors + 1)};
	}
	const OrderHeader order = lock_order(ctx.conn, row.order_key);
	std::string detail = row.extra;
	if (row.extra == "confirmShipment") {
		move_lines(ctx.conn, order.key, "3200", "3700", "confirm shipment");
		if (order.document_type == "0001")
			add_invoice(ctx.conn, order, "SHIPMENT");
		add_close_task_when_ready(ctx.conn, order, false);
		detail += ": lines 3700";
	} else if (row.extra == "receiveReturn") {
		move_lines(ctx.conn, order.key, "1500", "3700", "receive return");
		add_invoice(ctx.conn, order, "RETURN");
		add_close_task_when_ready(ctx.conn, order, false);
		detail += ": lines 3700";
	} else if (row.extra == "changeOrder") {
		ctx.conn.exec("UPDATE yfs_order_header SET buyer_organization_code = "
		              "buyer_organization_code || '*' WHERE order_header_key = $1",
		              {order.key});
	} else {
		throw Anomaly("unknown API " + row.extra);
	}
	const long long deleted =
		ctx.conn.exec("DELETE FROM yfs_async_request "
		              "WHERE async_request_key = $1 AND rollout_claim_token = $2::uuid",
		              {row.key, row.token})
			.affected();
	return {Finish::Ended, "", deleted == 1, detail};
}

// AGENT.SEND_INVOICE: publishes a created invoice (00 -> 01); the order's
// payment collection becomes due.
Outcome send_invoice(WorkContext &ctx, const ClaimedRow &row)
{
	lock_order(ctx.conn, row.order_key);
	const long long published =
		ctx.conn.exec("UPDATE yfs_order_invoice SET status = '01' "
		              "WHERE order_invoice_key = $1 AND status = '00'",
		              {row.key})
			.affected();
	if (published != 1)
		throw Anomaly("send invoice: " + row.key + " is not in status 00");
	ctx.conn.exec("UPDATE yfs_order_header SET payment_status = 'INVOICED', collection_due_ts = now() "
	              "WHERE order_header_key = $1",
	              {row.order_key});
	return {Finish::Complete, "", true, row.extra + " invoice published"};
}

// PAYMENT_COLLECTION[.0003]: creates the authorization and charge requests
// (a refund for returns); they inherit the order's version.
Outcome request_collection(WorkContext &ctx, const ClaimedRow &row)
{
	const OrderHeader order = lock_order(ctx.conn, row.key);
	if (!has_payment(order.document_type))
		throw Anomaly("collection: " + row.key + " has no payment");
	if (ctx.conn.exec("SELECT count(*) FROM yfs_charge_transaction WHERE order_header_key = $1",
	                  {row.key}).integer(0, 0) > 0)
		throw Anomaly("collection: " + row.key + " already has charge requests");
	if (order.document_type == "0003") {
		ctx.conn.exec("INSERT INTO yfs_charge_transaction (charge_transaction_key, order_header_key, "
		              "charge_type, request_amount, execution_transaction_id) "
		              "VALUES ('chg-' || $1 || '-refund', $1, 'CHARGE', -($2::numeric), "
		              "'PAYMENT_EXECUTION.0003')",
		              {row.key, order.total_amount});
	} else {
		ctx.conn.exec("INSERT INTO yfs_charge_transaction (charge_transaction_key, order_header_key, "
		              "charge_type, request_amount, execution_transaction_id) "
		              "VALUES ('chg-' || $1 || '-auth', $1, 'AUTHORIZATION', $2::numeric, 'PAYMENT_EXECUTION'), "
		              "('chg-' || $1 || '-charge', $1, 'CHARGE', $2::numeric, 'PAYMENT_EXECUTION')",
		              {row.key, order.total_amount});
	}
	ctx.conn.exec("UPDATE yfs_order_header SET payment_status = 'AWAITING_CHARGE' "
	              "WHERE order_header_key = $1",
	              {row.key});
	return {Finish::Complete, "", true, "charge requests created"};
}

// PAYMENT_EXECUTION[.0003]: runs the request through the payment user exit,
// which sometimes fails (status ERROR, retried a second later). When the
// order's last request closes, the order is paid.
Outcome execute_collection(WorkContext &ctx, const ClaimedRow &row)
{
	const OrderHeader order = lock_order(ctx.conn, row.order_key);
	if (row.attempt == "OPEN" &&
	    chance(ctx.options.seed, row.key, kSaltPaymentError, kPaymentErrorPercent)) {
		ctx.conn.exec("UPDATE yfs_charge_transaction SET status = 'ERROR' "
		              "WHERE charge_transaction_key = $1",
		              {row.key});
		return {Finish::Retry, kRetryDelay, true, "payment user exit failed"};
	}
	const long long closed =
		ctx.conn.exec("UPDATE yfs_charge_transaction SET status = 'CLOSED' "
		              "WHERE charge_transaction_key = $1 AND status IN ('OPEN', 'ERROR')",
		              {row.key})
			.affected();
	if (closed != 1)
		throw Anomaly("execute collection: " + row.key + " is not open");
	const long long paid =
		ctx.conn.exec("UPDATE yfs_order_header SET payment_status = 'PAID' "
		              "WHERE order_header_key = $1 AND NOT EXISTS (SELECT FROM yfs_charge_transaction "
		              "WHERE order_header_key = $1 AND status <> 'CLOSED')",
		              {row.order_key})
			.affected();
	if (paid == 1)
		add_close_task_when_ready(ctx.conn, order, true);
	return {Finish::Complete, "", true, row.extra + (paid == 1 ? " closed; order paid" : " closed")};
}

// AGENT.ORDER_MONITOR: while the order is open, looks again every 2 seconds
// and raises an alert once it is older than 4 seconds; a finished order
// leaves the monitor.
Outcome monitor_order(WorkContext &ctx, const ClaimedRow &row)
{
	const OrderHeader order = lock_order(ctx.conn, row.key);
	const bool done = has_close_transaction(order.document_type)
		? order.closed
		: lines_not_shipped(ctx.conn, row.key) == 0;
	if (done)
		return {Finish::Complete, "", true, "order done: no more alerts"};
	if (order.age_seconds > kAlertAfterSeconds)
		return {Finish::Reschedule, kMonitorInterval, true, "ALERT: order still open"};
	return {Finish::Reschedule, kMonitorInterval, true, "on time"};
}

}  // namespace demo
