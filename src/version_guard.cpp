#include "version_guard.hpp"

#include "extension_common.hpp"
#include "postgres_headers.hpp"
#include "settings.hpp"
#include "version_setting.hpp"

bool retag_in_progress = false;

namespace {

// SQLSTATEs of their own, so applications can tell a refused cross-version
// write from any other error.
constexpr int kCrossVersionWrite = MAKE_SQLSTATE('R', 'V', '0', '0', '1');
constexpr int kVersionChange = MAKE_SQLSTATE('R', 'V', '0', '0', '2');

// Audit a bypass once per transaction and table, not once per row.
TransactionId bypass_audited_xid = InvalidTransactionId;
Oid bypass_audited_relid = InvalidOid;

void audit_bypass(const TriggerData *td)
{
	const TransactionId xid = GetTopTransactionId();
	const Oid relid = RelationGetRelid(td->tg_relation);
	if (xid == bypass_audited_xid && relid == bypass_audited_relid)
		return;

	const char *schema = quote_identifier(
		get_namespace_name(get_func_namespace(td->tg_trigger->tgfoid)));
	const char *sql = psprintf(
		"INSERT INTO %s.rollout_audit (action, detail) VALUES ('guard_bypass', "
		"pg_catalog.jsonb_build_object('table', $1::regclass::text, 'operation', $2::text))",
		schema);
	Oid argtypes[2] = {OIDOID, TEXTOID};
	Datum args[2] = {ObjectIdGetDatum(relid),
	                 CStringGetTextDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE"
	                                                                          : "DELETE")};
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_guard_trigger: SPI_connect failed");
	if (SPI_execute_with_args(sql, 2, argtypes, args, nullptr, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "rollout_guard_trigger: could not audit the bypass");
	SPI_finish();
	bypass_audited_xid = xid;
	bypass_audited_relid = relid;
}

AttrNumber guarded_column(const TriggerData *td)
{
	const Trigger *trigger = td->tg_trigger;
	const char *column = trigger->tgnargs == 1 ? trigger->tgargs[0] : nullptr;
	const int attnum = column ? SPI_fnumber(RelationGetDescr(td->tg_relation), column) : 0;
	if (attnum <= 0)
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("trigger \"%s\" on table \"%s\" has invalid arguments",
		                       trigger->tgname, RelationGetRelationName(td->tg_relation)),
		                errdetail("It needs the name of an existing version column."),
		                errhint("Install the trigger with rollout_enable_guard().")));
	return static_cast<AttrNumber>(attnum);
}

const char *format_version(rollout::Version version)
{
	char *buf = static_cast<char *>(palloc(rollout::kDottedBufferSize));
	rollout::format_dotted(version, buf);
	return buf;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(rollout_guard_trigger);
Datum rollout_guard_trigger(PG_FUNCTION_ARGS)
{
	const TriggerData *td =
		trigger_call(fcinfo, "rollout_guard_trigger", "Install it with rollout_enable_guard().");
	const bool is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
	    !(is_update || TRIGGER_FIRED_BY_DELETE(td->tg_event)))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("trigger \"%s\" on table \"%s\" must be a BEFORE UPDATE OR DELETE "
		                       "FOR EACH ROW trigger",
		                       td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
		                errhint("Install it with rollout_enable_guard().")));

	HeapTuple result = is_update ? td->tg_newtuple : td->tg_trigtuple;
	if (retag_in_progress)
		return PointerGetDatum(result);

	TupleDesc tupdesc = RelationGetDescr(td->tg_relation);
	const AttrNumber attnum = guarded_column(td);
	bool old_null;
	const Datum old_version = heap_getattr(td->tg_trigtuple, attnum, tupdesc, &old_null);

	if (guard_bypass) {
		audit_bypass(td);
		return PointerGetDatum(result);
	}

	if (is_update) {
		bool new_null;
		const Datum new_version = heap_getattr(td->tg_newtuple, attnum, tupdesc, &new_null);
		if (old_null != new_null || (!old_null && DatumGetInt64(old_version) != DatumGetInt64(new_version)))
			ereport(ERROR, (errcode(kVersionChange),
			                errmsg("the rollout version of a row of table \"%s\" cannot be changed "
			                       "by UPDATE",
			                       RelationGetRelationName(td->tg_relation)),
			                errhint("Move rows between versions with rollout_retag() or "
			                        "rollout_phase_out().")));
	}
	if (old_null)
		return PointerGetDatum(result);

	const rollout::Version row_version = DatumGetInt64(old_version);
	rollout::Version session;
	if (!session_version(&session)) {
		if (guard_unversioned == kAllowUnversioned)
			return PointerGetDatum(result);
		ereport(ERROR, (errcode(kCrossVersionWrite),
		                errmsg("a session without rollout.version cannot %s rows of version %s "
		                       "in table \"%s\"",
		                       is_update ? "update" : "delete", format_version(row_version),
		                       RelationGetRelationName(td->tg_relation)),
		                errhint("Set rollout.version, or have an administrator set "
		                        "rollout.guard_unversioned = 'allow' for maintenance roles.")));
	}
	if (rollout::compare_versions(row_version, session) > 0)
		ereport(ERROR, (errcode(kCrossVersionWrite),
		                errmsg("version %s cannot %s a row of newer version %s in table \"%s\"",
		                       format_version(session), is_update ? "update" : "delete",
		                       format_version(row_version),
		                       RelationGetRelationName(td->tg_relation)),
		                errdetail("Rows created by a newer version may only be changed by that "
		                          "version or a later one.")));
	return PointerGetDatum(result);
}

}  // extern "C"
