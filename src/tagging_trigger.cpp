// rollout_tag_trigger: the BEFORE INSERT row trigger installed by
// rollout_enable_tagging(). Precedence for each new row: an explicit version,
// then the parent row's version (inheritance), then the ramp's choice for the
// routing column, then rollout.version, then the trigger's if_unset policy.
// Whatever version results must not be retired.
//
// Everything derived from the trigger's arguments and the table's catalog
// entries is cached per trigger and dropped on relcache invalidation, so the
// per-row path touches no catalog. Only inheritance runs a (prepared) query.
#include "postgres_headers.hpp"
#include "rollout_config.hpp"
#include "version_setting.hpp"

namespace {

// tgargs layout, written by rollout_enable_tagging():
//   [0] version column, [1] if_unset, [2] qualified parent table or '',
//   [3] routing column or '', then N child key columns followed by the N
//   matching parent key columns.
constexpr int kFixedArgs = 4;

enum class IfUnset { error, leave_null };

struct TaggingConfig {
	Oid trigger_oid;  // hash key; partitions carry their own clone of the trigger
	bool valid;
	Oid relid;
	AttrNumber version_attnum;
	Oid version_type;
	Oid extension_namespace;
	IfUnset if_unset;
	AttrNumber route_attnum;  // 0 without routing
	FmgrInfo route_output;    // output function of the routing column
	Oid parent_relid;  // InvalidOid without inheritance
	int nkeys;
	AttrNumber key_attnums[INDEX_MAX_KEYS];
	SPIPlanPtr parent_lookup;
};

HTAB *config_cache = nullptr;

// Bumped by every relevant invalidation, so a rebuild that raced one is not
// marked valid.
uint64 invalidation_counter = 0;

void invalidate_configs(Datum, Oid relid)
{
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, config_cache);
	while (auto *config = static_cast<TaggingConfig *>(hash_seq_search(&status))) {
		if (relid == InvalidOid || config->relid == relid || config->parent_relid == relid) {
			config->valid = false;
			++invalidation_counter;
		}
	}
}

void ensure_config_cache()
{
	if (config_cache != nullptr)
		return;
	HASHCTL ctl;
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(TaggingConfig);
	config_cache = hash_create("rollout_ext tagging triggers", 32, &ctl, HASH_ELEM | HASH_BLOBS);
	CacheRegisterRelcacheCallback(invalidate_configs, (Datum) 0);
}

[[noreturn]] void report_malformed_trigger(const TriggerData *td, const char *detail)
{
	ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
	                errmsg("trigger \"%s\" on table \"%s\" has invalid arguments",
	                       td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
	                errdetail("%s", detail),
	                errhint("Install the trigger with rollout_enable_tagging().")));
	pg_unreachable();
}

// rollout_version lives in the schema of the trigger function itself.
Oid version_type_oid(const Trigger *trigger)
{
	const Oid nsp = get_func_namespace(trigger->tgfoid);
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("rollout_version"),
	                       ObjectIdGetDatum(nsp));
}

AttrNumber resolve_column(const TriggerData *td, const char *column, Oid required_type)
{
	TupleDesc tupdesc = RelationGetDescr(td->tg_relation);
	const int attnum = SPI_fnumber(tupdesc, column);
	if (attnum <= 0)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
		                errmsg("column \"%s\" of relation \"%s\" does not exist", column,
		                       RelationGetRelationName(td->tg_relation)),
		                errhint("Re-run rollout_enable_tagging() after renaming or dropping "
		                        "columns it uses.")));
	const Oid type = TupleDescAttr(tupdesc, attnum - 1)->atttypid;
	if (OidIsValid(required_type) && type != required_type)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
		                errmsg("column \"%s\" of relation \"%s\" has type %s, not rollout_version",
		                       column, RelationGetRelationName(td->tg_relation),
		                       format_type_be(type))));
	return static_cast<AttrNumber>(attnum);
}

Oid resolve_parent_table(const char *qualified_name)
{
#if PG_VERSION_NUM >= 160000
	List *names = stringToQualifiedNameList(qualified_name, nullptr);
#else
	List *names = stringToQualifiedNameList(qualified_name);
#endif
	return RangeVarGetRelid(makeRangeVarFromNameList(names), AccessShareLock, false);
}

void check_parent_version_column(Oid parent_relid, const char *column, Oid version_type)
{
	const AttrNumber attnum = get_attnum(parent_relid, column);
	if (attnum == InvalidAttrNumber)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
		                errmsg("column \"%s\" of relation \"%s\" does not exist", column,
		                       get_rel_name(parent_relid)),
		                errdetail("Inherited versions are read from the parent's column of the "
		                          "same name.")));
	const Oid type = get_atttype(parent_relid, attnum);
	if (type != version_type)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
		                errmsg("column \"%s\" of relation \"%s\" has type %s, not rollout_version",
		                       column, get_rel_name(parent_relid), format_type_be(type))));
}

// SELECT p.<version> FROM <parent> p WHERE p.<k1> = $1 AND ... LIMIT 1
SPIPlanPtr prepare_parent_lookup(const TriggerData *td, TaggingConfig *config, char **args)
{
	TupleDesc tupdesc = RelationGetDescr(td->tg_relation);
	char **parent_keys = args + kFixedArgs + config->nkeys;
	Oid argtypes[INDEX_MAX_KEYS];
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT p.%s FROM %s.%s p WHERE ", quote_identifier(args[0]),
	                 quote_identifier(get_namespace_name(get_rel_namespace(config->parent_relid))),
	                 quote_identifier(get_rel_name(config->parent_relid)));
	for (int i = 0; i < config->nkeys; ++i) {
		argtypes[i] = TupleDescAttr(tupdesc, config->key_attnums[i] - 1)->atttypid;
		appendStringInfo(&sql, "%sp.%s = $%d", i > 0 ? " AND " : "",
		                 quote_identifier(parent_keys[i]), i + 1);
	}
	appendStringInfoString(&sql, " LIMIT 1");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_tag_trigger: SPI_connect failed");
	SPIPlanPtr plan = SPI_prepare(sql.data, config->nkeys, argtypes);
	if (plan == nullptr)
		elog(ERROR, "rollout_tag_trigger: could not prepare \"%s\": %s", sql.data,
		     SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "rollout_tag_trigger: SPI_keepplan failed");
	SPI_finish();
	pfree(sql.data);
	return plan;
}

void build_config(const TriggerData *td, TaggingConfig *config)
{
	const Trigger *trigger = td->tg_trigger;
	char **args = trigger->tgargs;
	const int key_args = trigger->tgnargs - kFixedArgs;

	if (key_args < 0 || key_args % 2 != 0 || key_args / 2 > INDEX_MAX_KEYS)
		report_malformed_trigger(td, "It needs a column name, an if_unset policy, a parent "
		                             "table, a routing column and pairs of key columns.");

	config->relid = RelationGetRelid(td->tg_relation);
	config->extension_namespace = get_func_namespace(trigger->tgfoid);
	config->version_type = version_type_oid(trigger);
	config->version_attnum = resolve_column(td, args[0], config->version_type);

	if (strcmp(args[1], "error") == 0)
		config->if_unset = IfUnset::error;
	else if (strcmp(args[1], "null") == 0)
		config->if_unset = IfUnset::leave_null;
	else
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("invalid if_unset value \"%s\" for trigger \"%s\"", args[1],
		                       trigger->tgname),
		                errhint("Use 'error' or 'null'.")));

	config->route_attnum = 0;
	if (args[3][0] != '\0') {
		config->route_attnum = resolve_column(td, args[3], InvalidOid);
		Oid output;
		bool is_varlena;
		getTypeOutputInfo(TupleDescAttr(RelationGetDescr(td->tg_relation),
		                                config->route_attnum - 1)->atttypid,
		                  &output, &is_varlena);
		fmgr_info_cxt(output, &config->route_output, TopMemoryContext);
	}

	if (config->parent_lookup != nullptr) {
		SPI_freeplan(config->parent_lookup);
		config->parent_lookup = nullptr;
	}
	config->nkeys = key_args / 2;
	config->parent_relid = InvalidOid;
	if (args[2][0] == '\0') {
		if (config->nkeys != 0)
			report_malformed_trigger(td, "Key columns were given without a parent table.");
		return;
	}
	if (config->nkeys == 0)
		report_malformed_trigger(td, "A parent table was given without key columns.");

	config->parent_relid = resolve_parent_table(args[2]);
	check_parent_version_column(config->parent_relid, args[0], config->version_type);
	for (int i = 0; i < config->nkeys; ++i)
		config->key_attnums[i] = resolve_column(td, args[kFixedArgs + i], InvalidOid);
	config->parent_lookup = prepare_parent_lookup(td, config, args);
}

const TaggingConfig *tagging_config(const TriggerData *td)
{
	ensure_config_cache();
	const Oid trigger_oid = td->tg_trigger->tgoid;
	bool found;
	auto *config = static_cast<TaggingConfig *>(
		hash_search(config_cache, &trigger_oid, HASH_ENTER, &found));
	if (!found) {
		config->valid = false;
		config->relid = InvalidOid;
		config->parent_relid = InvalidOid;
		config->parent_lookup = nullptr;
	}
	if (config->valid)
		return config;

	const uint64 counter_before = invalidation_counter;
	config->valid = false;
	build_config(td, config);
	// Valid only if no invalidation arrived while the catalogs were read; the
	// config is still the best answer for this row either way.
	config->valid = (invalidation_counter == counter_before);
	return config;
}

// The version of the parent row matched by the key columns, if there is one.
bool parent_version(const TaggingConfig *config, HeapTuple tuple, TupleDesc tupdesc,
                    rollout::Version *out)
{
	Datum keys[INDEX_MAX_KEYS];
	for (int i = 0; i < config->nkeys; ++i) {
		bool isnull;
		keys[i] = heap_getattr(tuple, config->key_attnums[i], tupdesc, &isnull);
		if (isnull)
			return false;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_tag_trigger: SPI_connect failed");
	const int rc = SPI_execute_plan(config->parent_lookup, keys, nullptr, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "rollout_tag_trigger: parent lookup failed: %s", SPI_result_code_string(rc));
	bool found = false;
	if (SPI_processed == 1) {
		bool isnull;
		const Datum version =
			SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull) {
			*out = DatumGetInt64(version);
			found = true;
		}
	}
	SPI_finish();
	return found;
}

// The ramp's version for the row's routing key, if it has one.
bool routed_version(const TaggingConfig *config, HeapTuple tuple, TupleDesc tupdesc,
                    rollout::Version *out)
{
	bool isnull;
	const Datum key = heap_getattr(tuple, config->route_attnum, tupdesc, &isnull);
	if (isnull)
		return false;
	char *text = OutputFunctionCall(const_cast<FmgrInfo *>(&config->route_output), key);
	*out = route_key(config->extension_namespace, text, strlen(text));
	pfree(text);
	return true;
}

void check_trigger_event(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("rollout_tag_trigger() was not called by the trigger manager"),
		                errhint("Install it with rollout_enable_tagging().")));
	const TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
	    !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("trigger \"%s\" on table \"%s\" must be a BEFORE INSERT FOR EACH "
		                       "ROW trigger",
		                       td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
		                errhint("Install it with rollout_enable_tagging().")));
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(rollout_tag_trigger);
Datum rollout_tag_trigger(PG_FUNCTION_ARGS)
{
	check_trigger_event(fcinfo);
	const TriggerData *td = reinterpret_cast<TriggerData *>(fcinfo->context);
	const TaggingConfig *config = tagging_config(td);
	HeapTuple tuple = td->tg_trigtuple;
	TupleDesc tupdesc = RelationGetDescr(td->tg_relation);

	bool isnull;
	const Datum explicit_version = heap_getattr(tuple, config->version_attnum, tupdesc, &isnull);
	if (!isnull) {
		check_version_usable(config->extension_namespace, DatumGetInt64(explicit_version),
		                     "tag rows");
		return PointerGetDatum(tuple);
	}

	rollout::Version version;
	if (!(config->parent_lookup != nullptr && parent_version(config, tuple, tupdesc, &version)) &&
	    !(config->route_attnum > 0 && routed_version(config, tuple, tupdesc, &version)) &&
	    !session_version(&version)) {
		if (config->if_unset == IfUnset::leave_null)
			return PointerGetDatum(tuple);
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		         errmsg("rollout.version is not set, so the new row of table \"%s\" cannot be "
		                "tagged",
		                RelationGetRelationName(td->tg_relation)),
		         errhint("Run SET rollout.version = '<version>' for the session, SET LOCAL for "
		                 "one transaction, or give column \"%s\" a value.",
		                 NameStr(TupleDescAttr(tupdesc, config->version_attnum - 1)->attname))));
	}

	check_version_usable(config->extension_namespace, version, "tag rows");

	int column = config->version_attnum;
	Datum value = Int64GetDatum(version);
	bool value_isnull = false;
	return PointerGetDatum(
		heap_modify_tuple_by_cols(tuple, tupdesc, 1, &column, &value, &value_isnull));
}

}  // extern "C"
