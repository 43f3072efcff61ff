#include "work.hpp"

namespace demo {

OrderHeader lock_order(PgConn &conn, const std::string &order_key)
{
	PgResult r = conn.exec(
		"SELECT order_header_key, document_type, order_no, coalesce(seller_organization_code, ''), "
		"coalesce(payment_status, ''), total_amount::text, order_closed, "
		"extract(epoch FROM now() - order_date) "
		"FROM yfs_order_header WHERE order_header_key = $1 FOR NO KEY UPDATE",
		{order_key});
	if (r.rows() != 1)
		throw Anomaly("order " + order_key + " does not exist");
	OrderHeader h;
	h.key = r.text(0, 0);
	h.document_type = r.text(0, 1);
	h.order_no = r.text(0, 2);
	h.seller = r.text(0, 3);
	h.payment_status = r.text(0, 4);
	h.total_amount = r.text(0, 5);
	h.closed = r.boolean(0, 6);
	h.age_seconds = r.number(0, 7);
	return h;
}

long long move_lines(PgConn &conn, const std::string &order_key, const std::string &from,
                     const std::string &to, const char *stage)
{
	const long long moved =
		conn.exec("UPDATE yfs_order_line SET status = $3::numeric "
		          "WHERE order_header_key = $1 AND status = ANY ($2::numeric[])",
		          {order_key, "{" + from + "}", to})
			.affected();
	if (moved == 0)
		throw Anomaly(std::string(stage) + ": no line of " + order_key + " in status " + from);
	return moved;
}

long long lines_not_shipped(PgConn &conn, const std::string &order_key)
{
	return conn.exec("SELECT count(*) FROM yfs_order_line "
	                 "WHERE order_header_key = $1 AND status <> 3700",
	                 {order_key})
		.integer(0, 0);
}

void add_task(PgConn &conn, const std::string &transaction_id, const std::string &order_key)
{
	conn.exec("INSERT INTO rollout_task_q (transaction_id, data_key, data_type) "
	          "VALUES ($1, $2, 'OrderHeaderKey')",
	          {transaction_id, order_key});
}

void add_close_task_when_ready(PgConn &conn, const OrderHeader &order, bool paid)
{
	if (!has_close_transaction(order.document_type))
		return;
	if (has_payment(order.document_type) && !paid && order.payment_status != "PAID")
		return;
	if (lines_not_shipped(conn, order.key) > 0)
		return;
	add_task(conn, "CLOSE_ORDER." + order.document_type, order.key);
}

void add_async_request(PgConn &conn, const std::string &request_key, const std::string &api_name,
                       const std::string &order_key)
{
	conn.exec("INSERT INTO yfs_async_request (async_request_key, enterprise_code, api_name, message) "
	          "VALUES ($1, 'ACME', $2, $3)",
	          {request_key, api_name, order_key});
}

std::string document_type_of(const std::string &transaction_id)
{
	const auto dot = transaction_id.rfind('.');
	return dot == std::string::npos ? "0001" : transaction_id.substr(dot + 1);
}

bool has_close_transaction(const std::string &document_type)
{
	return document_type == "0001" || document_type == "0003" || document_type == "0005";
}

bool has_payment(const std::string &document_type)
{
	return document_type == "0001" || document_type == "0003";
}

}  // namespace demo
