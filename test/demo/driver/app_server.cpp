#include "app_server.hpp"

#include "audit_log.hpp"
#include "session.hpp"

#include <chrono>

namespace demo {

AppServer::AppServer(const VersionInfo &version, const Options &options, Stats &stats,
                     EventLog &events)
	: version_(version), options_(options), counters_(stats.version[version.index]), events_(events)
{
}

AppServer::~AppServer()
{
	finish();
}

void AppServer::start()
{
	conn_ = open_session(options_, "APP_SERVER " + version_.label, &version_, events_);
	thread_ = std::thread([this] { run(); });
}

void AppServer::submit(OrderRequest order)
{
	counters_.orders_dispatched++;
	{
		std::lock_guard<std::mutex> lock(mutex_);
		queue_.push_back(std::move(order));
	}
	wake_.notify_one();
}

void AppServer::finish()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		finishing_ = true;
	}
	wake_.notify_one();
	if (thread_.joinable())
		thread_.join();
	conn_.reset();
}

std::size_t AppServer::queued() const
{
	std::lock_guard<std::mutex> lock(mutex_);
	return queue_.size();
}

void AppServer::run()
{
	for (;;) {
		OrderRequest order;
		{
			std::unique_lock<std::mutex> lock(mutex_);
			wake_.wait(lock, [this] { return finishing_ || !queue_.empty(); });
			if (queue_.empty())
				return;
			order = std::move(queue_.front());
			queue_.pop_front();
		}
		// A failed order is tried again a few times, as a client would.
		for (int attempt = 1; attempt <= 3; ++attempt) {
			try {
				create(order);
				counters_.orders_created++;
				break;
			} catch (const PgError &e) {
				counters_.errors++;
				events_.add("APP_SERVER " + version_.label + " order " + order.key + ": " + e.what() +
				            " [" + e.sqlstate() + "]");
				if (e.connection_lost())
					conn_ = open_session(options_, "APP_SERVER " + version_.label, &version_, events_);
				std::this_thread::sleep_for(std::chrono::milliseconds(200));
			}
		}
	}
}

void AppServer::create(const OrderRequest &order)
{
	PgConn &c = *conn_;
	Transaction tx(c);
	const bool paid = order.document_type == "0001" || order.document_type == "0003";
	PgResult header = c.exec(
		"INSERT INTO yfs_order_header (order_header_key, enterprise_code, document_type, order_no, "
		"buyer_organization_code, seller_organization_code, total_amount, payment_status, "
		"next_alert_ts) "
		"VALUES ($1, 'ACME', $2, $3, 'CUST-' || $4, $5, $6::numeric, $7, "
		"CASE WHEN $8::boolean THEN now() + interval '2 seconds' END) "
		"RETURNING rollout_version::text",
		{order.key, order.document_type, order.order_no, std::to_string(order.number % 97),
		 order.seller, format_cents(order.total_cents()),
		 paid ? Param("AWAITING_AUTH") : Param(), order.monitored ? "true" : "false"});
	const std::string tagged = header.text(0, 0);
	for (std::size_t i = 0; i < order.lines.size(); ++i) {
		const OrderLine &line = order.lines[i];
		c.exec("INSERT INTO yfs_order_line (order_line_key, order_header_key, prime_line_no, item_id, "
		       "ordered_qty, unit_price) VALUES ($1 || '-' || $2, $1, $2::int, $3, $4::numeric, "
		       "$5::numeric)",
		       {order.key, std::to_string(i + 1), line.item_id, std::to_string(line.quantity),
		        format_cents(line.unit_price_cents)});
	}
	c.exec("INSERT INTO rollout_task_q (transaction_id, data_key, data_type) "
	       "VALUES ($1, $2, 'OrderHeaderKey')",
	       {"SCHEDULE." + order.document_type, order.key});
	if (order.change_request)
		c.exec("INSERT INTO yfs_async_request (async_request_key, enterprise_code, api_name, message) "
		       "VALUES ('asy-chg-' || $1, 'ACME', 'changeOrder', $1)",
		       {order.key});
	write_audit(c, AuditRecord{"APP_SERVER", version_.label, version_.numeric, "CREATE_ORDER",
	                           order.key, tagged.empty() ? Param() : Param(tagged), order.key,
	                           Param(), "created",
	                           order.document_type + ", " + std::to_string(order.lines.size()) +
	                               " line(s)"});
	tx.commit();
}

}  // namespace demo
