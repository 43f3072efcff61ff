// The orders the load balancer hands to the application servers: a mix of
// sales, return, purchase and transfer orders, derived from the seed and the
// order's number only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace demo {

struct OrderLine {
	std::string item_id;
	int quantity = 1;
	long unit_price_cents = 0;
};

struct OrderRequest {
	long number = 0;
	std::string key;            // order_header_key, also the routing key
	std::string document_type;  // 0001 sales, 0003 return, 0005 purchase, 0006 transfer
	std::string order_no;
	std::string seller;         // DS-* (drop ship): fulfilled through a chained order
	std::vector<OrderLine> lines;
	bool monitored = false;     // has an alert time for the Order Monitor
	bool change_request = false;  // the server also queues an async changeOrder request
	long total_cents() const;
};

OrderRequest make_order(std::uint64_t seed, long number);

// "12.34" for 1234.
std::string format_cents(long cents);

}  // namespace demo
