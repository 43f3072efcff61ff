// One row of demo_audit (test/demo/demo_audit.sql): what a server or agent
// did to one row. Written in the same transaction as the work it describes,
// so a rolled-back piece of work leaves no record.
#pragma once

#include "pg.hpp"

#include <string>

namespace demo {

struct AuditRecord {
	std::string agent_name;      // SCHEDULE_ORDER, ..., APP_SERVER
	std::string agent_instance;  // V1#1, V2#2, V1#1r (restarted)
	std::string agent_version;   // numeric rollout_version of the agent's session
	std::string criteria_id;     // the criteria claimed, or CREATE_ORDER
	std::string row_key;
	Param row_version;           // as the claim (or the insert) returned it
	Param order_key;
	Param claim_token;
	std::string outcome;         // created, completed, rescheduled, retried, lost_lease, error, abandoned
	std::string detail;
};

void write_audit(PgConn &conn, const AuditRecord &record);

}  // namespace demo
