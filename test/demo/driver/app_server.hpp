// An application server of one version: takes the orders the load balancer
// sends it and creates each in one transaction on its own connection, which
// acts as its version: the order is tagged from the session, its lines
// inherit the order's version, and so does its first task (SCHEDULE.<doc>).
#pragma once

#include "events.hpp"
#include "model.hpp"
#include "options.hpp"
#include "orders.hpp"
#include "pg.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace demo {

class AppServer {
public:
	AppServer(const VersionInfo &version, const Options &options, Stats &stats, EventLog &events);
	~AppServer();
	AppServer(const AppServer &) = delete;
	AppServer &operator=(const AppServer &) = delete;

	void start();
	void submit(OrderRequest order);
	// Creates what is queued, then stops.
	void finish();
	std::size_t queued() const;

private:
	void run();
	void create(const OrderRequest &order);

	const VersionInfo &version_;
	const Options &options_;
	VersionCounters &counters_;
	EventLog &events_;
	std::unique_ptr<PgConn> conn_;
	std::thread thread_;
	mutable std::mutex mutex_;
	std::condition_variable wake_;
	std::deque<OrderRequest> queue_;
	bool finishing_ = false;
};

}  // namespace demo
