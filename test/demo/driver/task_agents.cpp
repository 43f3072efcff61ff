// Schedule Order, Create Chained Order, Release Order and Close Order: driven
// by rollout_task_q. Each step creates the next step's task with no version:
// the task inherits the order's.
#include "chance.hpp"
#include "handlers.hpp"
#include "work.hpp"

#include <cstdlib>

namespace demo {

namespace {

constexpr int kBackorderPercent = 8;
constexpr const char *kRetryDelay = "1 second";

}  // namespace

// SCHEDULE.<doc>: lines 1100 -> 1500 (1600 when a chained order must be
// created first). Inventory is sometimes short: the lines go to 1300
// (backordered) and the task is retried a second later.
Outcome schedule_order(WorkContext &ctx, const ClaimedRow &row)
{
	const std::string doc = document_type_of(row.extra);
	const OrderHeader order = lock_order(ctx.conn, row.order_key);
	const long attempt = std::strtol(row.attempt.c_str(), nullptr, 10);
	if (attempt <= 2 &&
	    chance(ctx.options.seed, row.order_key, kSaltBackorder + static_cast<unsigned long>(attempt),
	           kBackorderPercent)) {
		ctx.conn.exec("UPDATE yfs_order_line SET status = 1300 "
		              "WHERE order_header_key = $1 AND status = 1100",
		              {row.order_key});
		return {Finish::Retry, kRetryDelay, true, "backordered: lines 1300, retry"};
	}
	const bool chain = order.drop_ship() && doc != "0003";
	move_lines(ctx.conn, row.order_key, "1100,1300", chain ? "1600" : "1500", "schedule");
	if (doc == "0003") {
		add_async_request(ctx.conn, "asy-rcv-" + row.order_key, "receiveReturn", row.order_key);
		return {Finish::Complete, "", true, "lines 1500; receipt queued"};
	}
	if (chain) {
		add_task(ctx.conn, doc == "0001" ? "CHAINED_ORDER_CREATE" : "CHAINED_ORDER_CREATE." + doc,
		         row.order_key);
		return {Finish::Complete, "", true, "lines 1600, awaiting chained order"};
	}
	add_task(ctx.conn, "RELEASE." + doc, row.order_key);
	return {Finish::Complete, "", true, "lines 1500"};
}

// CHAINED_ORDER_CREATE[.<doc>]: lines 1600 -> 1500. For a drop-shipped sales
// order, creates the chained purchase order, which belongs to the sales
// order's version (its lines and tasks then inherit it).
Outcome create_chained_order(WorkContext &ctx, const ClaimedRow &row)
{
	const std::string doc = document_type_of(row.extra);
	lock_order(ctx.conn, row.order_key);
	move_lines(ctx.conn, row.order_key, "1600", "1500", "chained order");
	std::string detail = "lines 1500";
	if (doc == "0001") {
		const std::string chained_key = "chn-" + row.order_key;
		ctx.conn.exec(
			"INSERT INTO yfs_order_header (order_header_key, enterprise_code, document_type, "
			"order_no, buyer_organization_code, seller_organization_code, total_amount, "
			"rollout_version) "
			"SELECT $2, enterprise_code, '0005', 'C' || order_no, enterprise_code, 'ACME', "
			"total_amount, rollout_version FROM yfs_order_header WHERE order_header_key = $1",
			{row.order_key, chained_key});
		ctx.conn.exec(
			"INSERT INTO yfs_order_line (order_line_key, order_header_key, prime_line_no, item_id, "
			"ordered_qty, unit_price) "
			"SELECT 'chn-' || order_line_key, $2, prime_line_no, item_id, ordered_qty, unit_price "
			"FROM yfs_order_line WHERE order_header_key = $1",
			{row.order_key, chained_key});
		add_task(ctx.conn, "SCHEDULE.0005", chained_key);
		detail += "; chained purchase order " + chained_key;
	}
	add_task(ctx.conn, "RELEASE." + doc, row.order_key);
	return {Finish::Complete, "", true, detail};
}

// RELEASE.<doc>: lines 1500 -> 3200, and the shipment confirmation is queued
// as an async request.
Outcome release_order(WorkContext &ctx, const ClaimedRow &row)
{
	lock_order(ctx.conn, row.order_key);
	move_lines(ctx.conn, row.order_key, "1500", "3200", "release");
	add_async_request(ctx.conn, "asy-shp-" + row.order_key, "confirmShipment", row.order_key);
	return {Finish::Complete, "", true, "lines 3200; shipment confirmation queued"};
}

// CLOSE_ORDER.<doc>: closes the order. Its task is added once every line is
// shipped and, for sales and returns, the payment is collected
// (add_close_task_when_ready); a task that finds it otherwise is an anomaly.
Outcome close_order(WorkContext &ctx, const ClaimedRow &row)
{
	const std::string doc = document_type_of(row.extra);
	const OrderHeader order = lock_order(ctx.conn, row.order_key);
	if (order.closed)
		throw Anomaly("close: " + row.order_key + " is already closed");
	if (lines_not_shipped(ctx.conn, row.order_key) > 0)
		throw Anomaly("close: " + row.order_key + " has lines not shipped");
	if (has_payment(doc) && order.payment_status != "PAID")
		throw Anomaly("close: " + row.order_key + " is not paid (" + order.payment_status + ")");
	ctx.conn.exec("UPDATE yfs_order_header SET order_closed = true WHERE order_header_key = $1",
	              {row.order_key});
	return {Finish::Complete, "", true, "order closed"};
}

}  // namespace demo
