#include "direct_write.hpp"

#include "settings.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/executor.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
}

namespace {

bool has_triggers_for(Relation rel, CmdType command)
{
	const TriggerDesc *triggers = rel->trigdesc;
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

bool lacks_table_privileges(Relation rel, CmdType command)
{
	const Oid user = GetUserId();
	const AclMode write = command == CMD_UPDATE ? ACL_UPDATE : ACL_DELETE;
	return pg_class_aclcheck(RelationGetRelid(rel), user, ACL_SELECT) != ACLCHECK_OK ||
	       pg_class_aclcheck(RelationGetRelid(rel), user, write) != ACLCHECK_OK;
}

bool has_check_constraints(Relation rel)
{
	const TupleConstr *constraints = RelationGetDescr(rel)->constr;
	return constraints != nullptr && constraints->num_check > 0;
}

bool has_generated_columns(Relation rel)
{
	const TupleConstr *constraints = RelationGetDescr(rel)->constr;
	return constraints != nullptr && constraints->has_generated_stored;
}

bool not_plain_heap(Relation rel)
{
	return rel->rd_rel->relkind != RELKIND_RELATION ||
	       rel->rd_tableam != GetHeapamTableAmRoutine();
}

// What an UPDATE or DELETE statement does that a heap write through
// table_tuple_update/table_tuple_delete and ExecInsertIndexTuples does not,
// one rule each. The model is what PostgreSQL itself adds around those calls
// when it writes rows without a plan (ExecSimpleRelationUpdate and
// ExecSimpleRelationDelete in execReplication.c) and what ExecInitModifyTable,
// the permission checks and the rewriter do for a statement. Where a rule
// applies, the direct write runs the statement instead, so the outcome is the
// statement's. sql/direct_write_rules.sql runs a claim, a completion and a
// retry both ways under each rule.
//
// Handled by the direct write itself, as the executor does them:
//   - replica identity and publications (CheckCmdReplicaIdentity, also for
//     row filters and column lists): check_direct_write raises the
//     statement's error;
//   - unique and exclusion indexes: ExecInsertIndexTuples checks them;
//   - NOT NULL: a claim only writes non-null due dates and tokens and adds
//     one to a count, a completion writes nothing;
//   - the row lock an UPDATE takes (FOR NO KEY UPDATE, or FOR UPDATE when a
//     key column changes): the claim takes ExecUpdateLockMode's.
// Foreign keys (either way), deferred unique checks and constraint triggers
// are triggers, so the trigger rule covers them.
struct StatementRule {
	bool for_update;
	bool for_delete;
	bool (*applies)(Relation rel, CmdType command);
	const char *why;
};

const StatementRule statement_rules[] = {
	{true, true, [](Relation, CmdType) { return !direct_writes_enabled; },
	 "rollout.direct_claim is off"},
	// The statement raises serialization failures; a heap write would not.
	{true, true, [](Relation, CmdType) { return IsolationUsesXactSnapshot(); },
	 "the transaction is REPEATABLE READ or SERIALIZABLE"},
	// The statement refuses (25006); a heap write would succeed.
	{true, true, [](Relation, CmdType) { return XactReadOnly; },
	 "the transaction is read-only"},
	{true, true, [](Relation rel, CmdType) { return not_plain_heap(rel); },
	 "the table is not a plain heap table"},
	// Column privileges alone are enough for the statement.
	{true, false, lacks_table_privileges, "the claimer lacks table-level SELECT or UPDATE"},
	{false, true, lacks_table_privileges, "the caller lacks table-level SELECT or DELETE"},
	{true, false, has_triggers_for, "the table has UPDATE triggers"},
	{false, true, has_triggers_for, "the table has DELETE triggers"},
	{true, true, [](Relation rel, CmdType) { return rel->rd_rel->relrowsecurity; },
	 "the table has row-level security"},
	{true, true, [](Relation rel, CmdType) { return rel->rd_rules != nullptr; },
	 "the table has rules"},
	// A new due date could fall outside the partition's bounds.
	{true, false, [](Relation rel, CmdType) { return rel->rd_rel->relispartition; },
	 "the table is a partition, whose constraint the new due date must meet"},
	{true, false, [](Relation rel, CmdType) { return has_check_constraints(rel); },
	 "the table has CHECK constraints"},
	{true, false, [](Relation rel, CmdType) { return has_generated_columns(rel); },
	 "the table has generated columns"},
};

}  // namespace


const char *check_direct_write(Relation rel, CmdType command)
{
	for (const StatementRule &rule : statement_rules) {
		const bool relevant = command == CMD_UPDATE ? rule.for_update : rule.for_delete;
		if (relevant && rule.applies(rel, command))
			return rule.why;
	}
	CheckCmdReplicaIdentity(rel, command);
	return nullptr;
}

Snapshot begin_direct_statement()
{
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	return GetActiveSnapshot();
}
