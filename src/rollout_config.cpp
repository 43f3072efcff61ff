#include "rollout_config.hpp"

#include "core/routing.hpp"
#include "settings.hpp"
#include "version_write_lock.hpp"

namespace {

enum class VersionState { unregistered, active, draining, retired };

struct Ramp {
	rollout::Version base;
	rollout::Version target;
	uint32 basis_points;  // 0 .. 10000, hundredths of a percent
	rollout::RoutingScheme scheme;
};

struct RegisteredVersion {
	rollout::Version version;
	VersionState state;
};

struct ConfigSnapshot {
	bool loaded;
	Oid versions_relid;
	Oid ramp_relid;
	int nversions;
	RegisteredVersion *versions;  // sorted by version, in TopMemoryContext
	bool has_ramp;
	Ramp ramp;
};

ConfigSnapshot config = {};
bool callback_registered = false;

void invalidate_config(Datum, Oid relid)
{
	if (relid == InvalidOid || relid == config.versions_relid || relid == config.ramp_relid)
		config.loaded = false;
}

VersionState parse_state(const char *state)
{
	if (strcmp(state, "active") == 0)
		return VersionState::active;
	if (strcmp(state, "draining") == 0)
		return VersionState::draining;
	return VersionState::retired;
}

void run_query(const char *sql)
{
	const int rc = SPI_execute(sql, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "rollout_ext: configuration query failed: %s", SPI_result_code_string(rc));
}

void load_config(Oid extension_namespace)
{
	if (!callback_registered) {
		CacheRegisterRelcacheCallback(invalidate_config, (Datum) 0);
		callback_registered = true;
	}
	const char *schema = quote_identifier(get_namespace_name(extension_namespace));
	config.versions_relid = get_relname_relid("rollout_versions", extension_namespace);
	config.ramp_relid = get_relname_relid("rollout_ramp", extension_namespace);
	if (config.versions != nullptr) {
		pfree(config.versions);
		config.versions = nullptr;
	}
	config.nversions = 0;
	config.has_ramp = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "rollout_ext: SPI_connect failed");

	run_query(psprintf("SELECT version, state FROM %s.rollout_versions ORDER BY version", schema));
	config.versions = static_cast<RegisteredVersion *>(MemoryContextAlloc(
		TopMemoryContext, sizeof(RegisteredVersion) * (SPI_processed > 0 ? SPI_processed : 1)));
	for (uint64 i = 0; i < SPI_processed; ++i) {
		bool isnull;
		HeapTuple row = SPI_tuptable->vals[i];
		config.versions[i].version =
			DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
		config.versions[i].state = parse_state(SPI_getvalue(row, SPI_tuptable->tupdesc, 2));
	}
	config.nversions = static_cast<int>(SPI_processed);

	// The scheme through to_jsonb, so that a library newer than the
	// installed SQL (make install before ALTER EXTENSION UPDATE) reads a ramp
	// without the column as murmur3, the only scheme there was.
	run_query(psprintf("SELECT base_version, target_version, "
	                   "(percent OPERATOR(pg_catalog.*) 100::numeric)::integer, "
	                   "pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'scheme' "
	                   "FROM %s.rollout_ramp r",
	                   schema));
	if (SPI_processed == 1) {
		bool isnull;
		HeapTuple row = SPI_tuptable->vals[0];
		TupleDesc desc = SPI_tuptable->tupdesc;
		config.ramp.base = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		config.ramp.target = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		config.ramp.basis_points = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
		const char *scheme = SPI_getvalue(row, desc, 4);
		config.ramp.scheme = scheme != nullptr
		                         ? rollout::parse_routing_scheme(scheme).value_or(
		                               rollout::RoutingScheme::murmur3)
		                         : rollout::RoutingScheme::murmur3;
		config.has_ramp = true;
	}
	SPI_finish();
	config.loaded = true;
}

const ConfigSnapshot &snapshot(Oid extension_namespace)
{
	if (!config.loaded)
		load_config(extension_namespace);
	return config;
}

// State of a version in rollout_versions.
VersionState registered_version_state(Oid extension_namespace, rollout::Version version)
{
	const ConfigSnapshot &current = snapshot(extension_namespace);
	int low = 0;
	int high = current.nversions - 1;
	while (low <= high) {
		const int mid = low + (high - low) / 2;
		const int cmp = rollout::compare_versions(current.versions[mid].version, version);
		if (cmp == 0)
			return current.versions[mid].state;
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid - 1;
	}
	return VersionState::unregistered;
}

// The ramp set by rollout_set_ramp(); false when none is set.
bool current_ramp(Oid extension_namespace, Ramp *out)
{
	const ConfigSnapshot &current = snapshot(extension_namespace);
	if (current.has_ramp)
		*out = current.ramp;
	return current.has_ramp;
}

}  // namespace

void check_version_usable(Oid extension_namespace, rollout::Version version, VersionUse use)
{
	const VersionState state = registered_version_state(extension_namespace, version);
	const char *usage = use == VersionUse::tag_rows ? "tag rows" : "claim rows";
	if (use == VersionUse::tag_rows || state == VersionState::draining)
		lock_version_for_writing(version);
	if (state == VersionState::retired) {
		char formatted[rollout::kDottedBufferSize];
		rollout::format_dotted(version, formatted);
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("rollout version %lld (%s) is retired", static_cast<long long>(version),
		                       formatted),
		                errdetail("Cannot %s with a retired version.", usage),
		                errhint("Use an active version, or reactivate this one with "
		                        "rollout_set_version_state().")));
	}
	if (state == VersionState::unregistered && !allow_unregistered_versions)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("rollout version %lld is not registered",
		                       static_cast<long long>(version)),
		                errdetail("Cannot %s with an unregistered version while "
		                          "rollout.allow_unregistered is off.",
		                          usage),
		                errhint("Register it with rollout_register_version().")));
}

rollout::Version route_key(Oid extension_namespace, const char *key, size_t len)
{
	Ramp ramp;
	if (!current_ramp(extension_namespace, &ramp))
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("no rollout ramp is set"),
		                errhint("Set one with rollout_set_ramp(base, target, percent).")));
	const uint32 bucket = rollout::routing_bucket(ramp.scheme, key, len);
	return rollout::routes_to_target(bucket, ramp.basis_points) ? ramp.target : ramp.base;
}

rollout::RoutingScheme current_routing_scheme(Oid extension_namespace)
{
	Ramp ramp;
	return current_ramp(extension_namespace, &ramp) ? ramp.scheme : rollout::RoutingScheme::murmur3;
}

extern "C" {

PG_FUNCTION_INFO_V1(rollout_config_changed);
Datum rollout_config_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("rollout_config_changed() was not called by the trigger manager")));
	// Every backend drops its cached configuration when this commits (and this
	// backend at its next command).
	CacheInvalidateRelcache(reinterpret_cast<TriggerData *>(fcinfo->context)->tg_relation);
	return PointerGetDatum(nullptr);
}

PG_FUNCTION_INFO_V1(rollout_route);
Datum rollout_route(PG_FUNCTION_ARGS)
{
	text *key = PG_GETARG_TEXT_PP(0);
	return Int64GetDatum(route_key(get_func_namespace(fcinfo->flinfo->fn_oid), VARDATA_ANY(key),
	                               VARSIZE_ANY_EXHDR(key)));
}

// The key's bucket under the current ramp's scheme (murmur3 without a ramp),
// or under the scheme given.
PG_FUNCTION_INFO_V1(rollout_route_bucket);
Datum rollout_route_bucket(PG_FUNCTION_ARGS)
{
	text *key = PG_GETARG_TEXT_PP(0);
	rollout::RoutingScheme scheme;
	if (PG_NARGS() > 1) {
		const char *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
		const auto parsed = rollout::parse_routing_scheme(name);
		if (!parsed)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("unknown routing scheme \"%s\"", name),
			                errhint("The schemes are murmur3, nginx and haproxy.")));
		scheme = *parsed;
	} else {
		scheme = current_routing_scheme(get_func_namespace(fcinfo->flinfo->fn_oid));
	}
	PG_RETURN_INT32(static_cast<int32>(
		rollout::routing_bucket(scheme, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key))));
}

}  // extern "C"
