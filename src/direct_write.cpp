#include "direct_write.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
}

namespace {

bool direct_writes_enabled = true;

bool has_triggers_for(const TriggerDesc *triggers, CmdType command)
{
	if (triggers == nullptr)
		return false;
	if (command == CMD_UPDATE)
		return triggers->trig_update_before_row || triggers->trig_update_after_row ||
		       triggers->trig_update_instead_row || triggers->trig_update_before_statement ||
		       triggers->trig_update_after_statement;
	return triggers->trig_delete_before_row || triggers->trig_delete_after_row ||
	       triggers->trig_delete_instead_row || triggers->trig_delete_before_statement ||
	       triggers->trig_delete_after_statement;
}

}  // namespace

void define_direct_write_setting()
{
	DefineCustomBoolVariable(
		"rollout.direct_claim",
		"Lets claims and completions change task rows through an index without a statement.",
		"Off runs every claim as a FOR UPDATE SKIP LOCKED statement and every completion as a "
		"DELETE statement. Tables and transactions that need the statement (triggers, "
		"row-level security, snapshot isolation) get it either way.",
		&direct_writes_enabled, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

const char *why_statement_needed(Relation rel, CmdType command)
{
	if (!direct_writes_enabled)
		return "rollout.direct_claim is off";
	if (IsolationUsesXactSnapshot())
		return "the transaction is REPEATABLE READ or SERIALIZABLE";
	const Oid user = GetUserId();
	const AclMode write = command == CMD_UPDATE ? ACL_UPDATE : ACL_DELETE;
	if (pg_class_aclcheck(RelationGetRelid(rel), user, ACL_SELECT) != ACLCHECK_OK ||
	    pg_class_aclcheck(RelationGetRelid(rel), user, write) != ACLCHECK_OK)
		return command == CMD_UPDATE ? "the claimer lacks table-level SELECT or UPDATE"
		                             : "the caller lacks table-level SELECT or DELETE";
	if (has_triggers_for(rel->trigdesc, command))
		return command == CMD_UPDATE ? "the table has UPDATE triggers"
		                             : "the table has DELETE triggers";
	if (rel->rd_rel->relrowsecurity)
		return "the table has row-level security";
	if (rel->rd_rules != nullptr)
		return "the table has rules";
	if (command == CMD_UPDATE && rel->rd_rel->relispartition)
		return "the table is a partition, whose constraint the new due date must meet";
	const TupleConstr *constraints = RelationGetDescr(rel)->constr;
	if (command == CMD_UPDATE && constraints != nullptr && constraints->num_check > 0)
		return "the table has CHECK constraints";
	if (command == CMD_UPDATE && constraints != nullptr && constraints->has_generated_stored)
		return "the table has generated columns";
	return nullptr;
}

Snapshot begin_direct_statement()
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	return GetActiveSnapshot();
}
