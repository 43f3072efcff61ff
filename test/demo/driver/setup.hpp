// Before any server or agent starts: checks that the database holds the demo
// schema and nothing from an earlier run, registers V1 and V2, routes every
// new order to V1 (ramp 0%) and gives every criteria a short lease.
#pragma once

#include "model.hpp"
#include "pg.hpp"

#include <stdexcept>
#include <string>

namespace demo {

class SetupError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

constexpr const char *kDemoLease = "3 seconds";

// Fills in each version's numeric form. Throws SetupError or PgError.
void prepare_database(PgConn &control, Versions &versions, const std::string &scheme);

}  // namespace demo
