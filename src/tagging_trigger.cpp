// rollout_tag_trigger: the BEFORE INSERT row trigger installed by
// rollout_enable_tagging(). Precedence for each new row: an explicit version,
// then the parent row's version (inheritance), then the ramp's choice for the
// routing column, then rollout.version, then the if_unset policy. Whatever
// version results must not be retired.
//
// The configuration lives in the rollout_tagging table, not in trigger
// arguments: pg_dump keeps that table's rows, but not triggers on the
// extension's own rollout_task_q. A table with the trigger and no row (as
// rollout_task_q after CREATE EXTENSION) uses the defaults.
//
// What the configuration and the catalogs say is cached per trigger and
// dropped on relcache invalidation (rollout_tagging's own changes included),
// so the per-row path touches no catalog. Inheritance reads the parent
// through one of its indexes (parent_probe.cpp), or else runs a prepared
// query.
#include "extension_common.hpp"
#include "kept_plan.hpp"
#include "parent_probe.hpp"
#include "postgres_headers.hpp"
#include "ramp_routing.hpp"
#include "settings.hpp"
#include "sql_text.hpp"
#include "version_setting.hpp"
#include "version_usable.hpp"

namespace {

constexpr const char *kDefaultColumn = "rollout_version";

// One row per inheritance key pair; a single row with NULL keys without one.
constexpr const char *kConfigQuery =
	"SELECT t.column_name, t.if_unset, t.inherit_from::oid, t.route_by, k.child, k.parent "
	"FROM %s.rollout_tagging t LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(t.inherit_on), "
	"pg_catalog.unnest(t.parent_columns)) WITH ORDINALITY AS k(child, parent, n) ON true "
	"WHERE t.tbl::oid OPERATOR(pg_catalog.=) $1 ORDER BY k.n";

enum ConfigColumn { kColumnName = 1, kIfUnset, kInheritFrom, kRouteBy, kChildKey, kParentKey };

enum class IfUnset { error, leave_null };

struct TaggingConfig {
	Oid trigger_oid;  // hash key; partitions carry their own clone of the trigger
	bool valid;
	Oid relid;
	Oid extension_namespace;
	AttrNumber version_attnum;
	IfUnset if_unset;
	AttrNumber route_attnum;  // 0 without routing
	FmgrInfo route_output;    // output function of the routing column
	Oid parent_relid;         // InvalidOid without inheritance
	int nkeys;
	AttrNumber key_attnums[INDEX_MAX_KEYS];
	SPIPlanPtr parent_lookup;
	ParentProbe parent_probe;
};

// The configuration row of a table, as read from rollout_tagging.
struct TaggingRow {
	const char *column_name;
	const char *if_unset;
	Oid inherit_from;
	const char *route_by;
	int nkeys;
	const char *child_keys[INDEX_MAX_KEYS];
	const char *parent_keys[INDEX_MAX_KEYS];
};

HTAB *config_cache = nullptr;
Oid tagging_table_relid = InvalidOid;

// Bumped by every relevant invalidation, so a rebuild that raced one is not
// marked valid.
uint64 invalidation_counter = 0;

void invalidate_configs(Datum, Oid relid)
{
	const bool all = relid == InvalidOid || relid == tagging_table_relid;
	HASH_SEQ_STATUS status;
	hash_seq_init(&status, config_cache);
	while (auto *config = static_cast<TaggingConfig *>(hash_seq_search(&status))) {
		if (all || config->relid == relid || config->parent_relid == relid) {
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

// Reads the configuration row of the trigger's table, or of the nearest
// partitioned ancestor that has one. Runs inside SPI. False: no row (defaults).
bool read_tagging_row(const TriggerData *td, Oid extension_namespace, TaggingRow *row)
{
	const char *schema = quote_identifier(get_namespace_name(extension_namespace));
	const char *sql = psprintf(kConfigQuery, schema);
	Oid argtypes[1] = {OIDOID};

	const Oid relid = RelationGetRelid(td->tg_relation);
	List *candidates = list_make1_oid(relid);
	if (td->tg_relation->rd_rel->relispartition)
		candidates = list_concat(candidates, get_partition_ancestors(relid));

	ListCell *cell;
	foreach (cell, candidates) {
		Datum arg = ObjectIdGetDatum(lfirst_oid(cell));
		if (SPI_execute_with_args(sql, 1, argtypes, &arg, nullptr, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "rollout_tag_trigger: could not read rollout_tagging");
		if (SPI_processed == 0)
			continue;

		TupleDesc desc = SPI_tuptable->tupdesc;
		HeapTuple first = SPI_tuptable->vals[0];
		bool isnull;
		row->column_name = SPI_getvalue(first, desc, kColumnName);
		row->if_unset = SPI_getvalue(first, desc, kIfUnset);
		const Datum parent = SPI_getbinval(first, desc, kInheritFrom, &isnull);
		row->inherit_from = isnull ? InvalidOid : DatumGetObjectId(parent);
		row->route_by = SPI_getvalue(first, desc, kRouteBy);
		row->nkeys = 0;
		for (uint64 i = 0; i < SPI_processed && i < INDEX_MAX_KEYS; ++i) {
			const char *child = SPI_getvalue(SPI_tuptable->vals[i], desc, kChildKey);
			if (child == nullptr)
				break;
			row->child_keys[row->nkeys] = child;
			row->parent_keys[row->nkeys] = SPI_getvalue(SPI_tuptable->vals[i], desc, kParentKey);
			++row->nkeys;
		}
		return true;
	}
	return false;
}

// SELECT p.<version> FROM <parent> p WHERE p.<k1> = $1::<type> AND ... LIMIT 1,
// comparing in the parent key's type with its own equality operator.
SPIPlanPtr prepare_parent_lookup(const TriggerData *td, const TaggingConfig *config,
                                 const TaggingRow &row)
{
	TupleDesc tupdesc = RelationGetDescr(td->tg_relation);
	Oid argtypes[INDEX_MAX_KEYS];
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT p.%s FROM %s p WHERE ", quote_identifier(row.column_name),
	                 qualified_table_name(config->parent_relid));
	for (int i = 0; i < config->nkeys; ++i) {
		argtypes[i] = TupleDescAttr(tupdesc, config->key_attnums[i] - 1)->atttypid;
		const Oid parent_type =
			get_atttype(config->parent_relid, get_attnum(config->parent_relid, row.parent_keys[i]));
		appendStringInfo(&sql, "%sp.%s %s $%d::%s", i > 0 ? " AND " : "",
		                 quote_identifier(row.parent_keys[i]), equality_operator(parent_type), i + 1,
		                 format_type_be_qualified(parent_type));
	}
	appendStringInfoString(&sql, " LIMIT 1");

	return keep_prepared_plan(SPI_prepare(sql.data, config->nkeys, argtypes),
	                          psprintf("\"%s\"", sql.data));
}

void build_config(const TriggerData *td, TaggingConfig *config)
{
	const Trigger *trigger = td->tg_trigger;
	if (trigger->tgnargs != 0)
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("trigger \"%s\" on table \"%s\" must not have arguments",
		                       trigger->tgname, RelationGetRelationName(td->tg_relation)),
		                errdetail("Tagging is configured in rollout_tagging."),
		                errhint("Install the trigger with rollout_enable_tagging().")));

	config->relid = RelationGetRelid(td->tg_relation);
	config->extension_namespace = get_func_namespace(trigger->tgfoid);
	if (tagging_table_relid == InvalidOid)
		tagging_table_relid = get_relname_relid("rollout_tagging", config->extension_namespace);
	const Oid version_type = version_type_oid(config->extension_namespace);
	if (config->parent_lookup != nullptr) {
		SPI_freeplan(config->parent_lookup);
		config->parent_lookup = nullptr;
	}
	config->parent_probe.index_relid = InvalidOid;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_tag_trigger: SPI_connect failed");
	TaggingRow row = {kDefaultColumn, "error", InvalidOid, nullptr, 0, {}, {}};
	read_tagging_row(td, config->extension_namespace, &row);

	config->version_attnum = resolve_column(td, row.column_name, version_type);
	config->if_unset = strcmp(row.if_unset, "null") == 0 ? IfUnset::leave_null : IfUnset::error;

	config->route_attnum = 0;
	if (row.route_by != nullptr) {
		config->route_attnum = resolve_column(td, row.route_by, InvalidOid);
		Oid output;
		bool is_varlena;
		getTypeOutputInfo(TupleDescAttr(RelationGetDescr(td->tg_relation),
		                                config->route_attnum - 1)->atttypid,
		                  &output, &is_varlena);
		fmgr_info_cxt(output, &config->route_output, TopMemoryContext);
	}

	config->parent_relid = row.inherit_from;
	config->nkeys = row.nkeys;
	if (OidIsValid(config->parent_relid)) {
		check_parent_version_column(config->parent_relid, row.column_name, version_type);
		for (int i = 0; i < config->nkeys; ++i)
			config->key_attnums[i] = resolve_column(td, row.child_keys[i], InvalidOid);
		config->parent_lookup = prepare_parent_lookup(td, config, row);
		Oid child_key_types[INDEX_MAX_KEYS];
		for (int i = 0; i < config->nkeys; ++i)
			child_key_types[i] = TupleDescAttr(RelationGetDescr(td->tg_relation),
			                                   config->key_attnums[i] - 1)->atttypid;
		plan_parent_probe(config->parent_relid, row.parent_keys, child_key_types, config->nkeys,
		                  row.column_name, &config->parent_probe);
	}
	SPI_finish();
}

// The trigger's cache entry is remembered in fn_extra, which lives as long as
// the statement's trigger state, so rows after the first skip the hash lookup.
// Entries are never removed from the cache, so the pointer stays good.
const TaggingConfig *tagging_config(FunctionCallInfo fcinfo, const TriggerData *td)
{
	const Oid trigger_oid = td->tg_trigger->tgoid;
	auto *config = static_cast<TaggingConfig *>(fcinfo->flinfo->fn_extra);
	if (config == nullptr || config->trigger_oid != trigger_oid) {
		ensure_config_cache();
		bool found;
		config = static_cast<TaggingConfig *>(
			hash_search(config_cache, &trigger_oid, HASH_ENTER, &found));
		if (!found) {
			config->valid = false;
			config->relid = InvalidOid;
			config->parent_relid = InvalidOid;
			config->parent_lookup = nullptr;
		}
		fcinfo->flinfo->fn_extra = config;
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

// The parent row matched by the key columns, and its version.
ParentLookup parent_version(const TaggingConfig *config, TupleTableSlot *row,
                            rollout::Version *out)
{
	Datum keys[INDEX_MAX_KEYS];
	for (int i = 0; i < config->nkeys; ++i) {
		bool isnull;
		keys[i] = slot_getattr(row, config->key_attnums[i], &isnull);
		if (isnull)
			return ParentLookup::no_parent;
	}

	ParentLookup probed;
	if (OidIsValid(config->parent_probe.index_relid) &&
	    probe_parent(&config->parent_probe, keys, &probed, out))
		return probed;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_tag_trigger: SPI_connect failed");
	const int rc = SPI_execute_plan(config->parent_lookup, keys, nullptr, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "rollout_tag_trigger: parent lookup failed: %s", SPI_result_code_string(rc));
	ParentLookup result = ParentLookup::no_parent;
	if (SPI_processed == 1) {
		bool isnull;
		const Datum version =
			SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		result = isnull ? ParentLookup::untagged_parent : ParentLookup::tagged_parent;
		if (!isnull)
			*out = DatumGetInt64(version);
	}
	SPI_finish();
	return result;
}

// The ramp's version for the row's routing key, if it has one.
bool routed_version(const TaggingConfig *config, TupleTableSlot *row, rollout::Version *out)
{
	bool isnull;
	const Datum key = slot_getattr(row, config->route_attnum, &isnull);
	if (isnull)
		return false;
	char *text = OutputFunctionCall(const_cast<FmgrInfo *>(&config->route_output), key);
	*out = route_key(config->extension_namespace, text, strlen(text));
	pfree(text);
	return true;
}

void check_trigger_event(FunctionCallInfo fcinfo)
{
	const TriggerData *td =
		trigger_call(fcinfo, "rollout_tag_trigger", "Install it with rollout_enable_tagging().");
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
	// A restored row is the dumped row: untagged or of a since-retired
	// version, it was accepted when it was first written.
	if (restoring_dump)
		return PointerGetDatum(td->tg_trigtuple);
	const TaggingConfig *config = tagging_config(fcinfo, td);
	HeapTuple tuple = td->tg_trigtuple;
	TupleDesc tupdesc = RelationGetDescr(td->tg_relation);

	// Columns are read through the trigger's slot: what it deforms here, the
	// executor reuses for constraints and indexes when the row is returned
	// unchanged.
	TupleTableSlot *row = td->tg_trigslot;
	bool isnull;
	const Datum explicit_version = slot_getattr(row, config->version_attnum, &isnull);
	if (!isnull) {
		check_version_usable(config->extension_namespace, DatumGetInt64(explicit_version),
		                     VersionUse::tag_rows);
		return PointerGetDatum(tuple);
	}

	rollout::Version version;
	const ParentLookup parent = config->parent_lookup != nullptr
	                                ? parent_version(config, row, &version)
	                                : ParentLookup::no_parent;
	// Children of untagged (legacy) rows stay untagged, as their parent.
	if (parent == ParentLookup::untagged_parent)
		return PointerGetDatum(tuple);
	if (parent == ParentLookup::no_parent &&
	    !(config->route_attnum > 0 && routed_version(config, row, &version)) &&
	    !session_version(&version)) {
		if (config->if_unset == IfUnset::leave_null)
			return PointerGetDatum(tuple);
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		         errmsg("rollout.version is not set, so the new row of table \"%s\" cannot be "
		                "tagged",
		                RelationGetRelationName(td->tg_relation)),
		         errtablecol(td->tg_relation, config->version_attnum),
		         errhint("Run SET rollout.version = '<version>' for the session, SET LOCAL for "
		                 "one transaction, or give column \"%s\" a value.",
		                 NameStr(TupleDescAttr(tupdesc, config->version_attnum - 1)->attname))));
	}
	check_version_usable(config->extension_namespace, version, VersionUse::tag_rows);

	int column = config->version_attnum;
	Datum value = Int64GetDatum(version);
	bool value_isnull = false;
	return PointerGetDatum(
		heap_modify_tuple_by_cols(tuple, tupdesc, 1, &column, &value, &value_isnull));
}

}  // extern "C"
