// Building blocks of the agents' work on the order tables. Every piece of
// work locks its order's header first, so two agents working on one order
// queue up instead of deadlocking.
#pragma once

#include "agent.hpp"

#include <string>

namespace demo {

struct OrderHeader {
	std::string key;
	std::string document_type;
	std::string order_no;
	std::string seller;
	std::string payment_status;
	std::string total_amount;
	bool closed = false;
	double age_seconds = 0;  // since order_date
	bool drop_ship() const { return seller.rfind("DS-", 0) == 0; }
};

// SELECT ... FOR NO KEY UPDATE of the order; Anomaly when it does not exist.
OrderHeader lock_order(PgConn &conn, const std::string &order_key);

// Moves the order's lines in status `from` to `to`; Anomaly when none was in `from`.
long long move_lines(PgConn &conn, const std::string &order_key, const std::string &from,
                     const std::string &to, const char *stage);

// Number of the order's lines not yet shipped (3700).
long long lines_not_shipped(PgConn &conn, const std::string &order_key);

// A task for the order. No version is given: the task inherits the order's.
void add_task(PgConn &conn, const std::string &transaction_id, const std::string &order_key);

// CLOSE_ORDER.<doc> for the order once it can close: every line shipped and,
// for sales and returns, paid (`paid` says the caller just paid it). Both
// the shipment and the last payment call it, each holding the order's lock,
// so whichever comes second sees the other and adds the one task: the
// close-order agent never polls an order that is not ready.
void add_close_task_when_ready(PgConn &conn, const OrderHeader &order, bool paid);

// An async request for the order, tagged with the session's version.
void add_async_request(PgConn &conn, const std::string &request_key, const std::string &api_name,
                       const std::string &order_key);

// The document type a transaction id runs for: SCHEDULE.0005 -> 0005; the
// enterprise-level transactions (no suffix) run for sales orders, 0001.
std::string document_type_of(const std::string &transaction_id);

// Document types whose orders are closed by a CLOSE_ORDER transaction.
bool has_close_transaction(const std::string &document_type);
// Document types with invoices and payments.
bool has_payment(const std::string &document_type);

}  // namespace demo
