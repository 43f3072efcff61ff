#include "audit_log.hpp"

namespace demo {

void write_audit(PgConn &conn, const AuditRecord &r)
{
	conn.exec("INSERT INTO demo_audit (agent_name, agent_instance, agent_version, criteria_id, "
	          "row_key, row_version, order_header_key, claim_token, outcome, detail) "
	          "VALUES ($1, $2, $3::rollout_version, $4, $5, $6::rollout_version, $7, $8::uuid, $9, "
	          "nullif($10, ''))",
	          {r.agent_name, r.agent_instance, r.agent_version, r.criteria_id, r.row_key,
	           r.row_version, r.order_key, r.claim_token, r.outcome, r.detail});
}

}  // namespace demo
