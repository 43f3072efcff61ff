#include "orders.hpp"

#include "chance.hpp"

#include <cstdio>
#include <cstdlib>

namespace demo {

long OrderRequest::total_cents() const
{
	long total = 0;
	for (const OrderLine &line : lines)
		total += line.quantity * line.unit_price_cents;
	return total;
}

std::string format_cents(long cents)
{
	char text[32];
	std::snprintf(text, sizeof text, "%s%ld.%02ld", cents < 0 ? "-" : "", std::labs(cents) / 100,
	              std::labs(cents) % 100);
	return text;
}

OrderRequest make_order(std::uint64_t seed, long number)
{
	std::uint64_t state = mix64(seed ^ mix64(static_cast<std::uint64_t>(number)));
	auto next = [&state](std::uint64_t bound) {
		state = mix64(state);
		return state % bound;
	};

	OrderRequest order;
	order.number = number;
	const std::uint64_t kind = next(100);
	const char *prefix;
	if (kind < 55) {
		order.document_type = "0001";
		prefix = "SO";
	} else if (kind < 70) {
		order.document_type = "0003";
		prefix = "RO";
	} else if (kind < 85) {
		order.document_type = "0005";
		prefix = "PO";
	} else {
		order.document_type = "0006";
		prefix = "TO";
	}
	char text[64];
	std::snprintf(text, sizeof text, "ord-%s-%06ld", order.document_type.c_str(), number);
	order.key = text;
	std::snprintf(text, sizeof text, "%s-%06ld", prefix, number);
	order.order_no = text;

	// Purchase and transfer orders always go through Create Chained Order; a
	// quarter of sales orders are drop-shipped, which does too.
	const bool drop_ship = order.document_type == "0005" || order.document_type == "0006" ||
	                       (order.document_type == "0001" && next(4) == 0);
	std::snprintf(text, sizeof text, "%s-%02d", drop_ship ? "DS" : "DC", static_cast<int>(next(5)) + 1);
	order.seller = text;

	const int line_count = static_cast<int>(next(4)) + 1;
	for (int i = 0; i < line_count; ++i) {
		OrderLine line;
		std::snprintf(text, sizeof text, "ITEM-%03d", static_cast<int>(next(200)));
		line.item_id = text;
		line.quantity = static_cast<int>(next(5)) + 1;
		line.unit_price_cents = 100 * static_cast<long>(next(90) + 10) + static_cast<long>(next(100));
		order.lines.push_back(line);
	}
	order.monitored = next(100) < 40;
	order.change_request = next(100) < 20;
	return order;
}

}  // namespace demo
