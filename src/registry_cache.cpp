#include "registry_cache.hpp"

#include "extension_common.hpp"

namespace {

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

}  // namespace

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

bool current_ramp(Oid extension_namespace, Ramp *out)
{
	const ConfigSnapshot &current = snapshot(extension_namespace);
	if (current.has_ramp)
		*out = current.ramp;
	return current.has_ramp;
}

extern "C" {

PG_FUNCTION_INFO_V1(rollout_config_changed);
Datum rollout_config_changed(PG_FUNCTION_ARGS)
{
	const TriggerData *td = trigger_call(fcinfo, "rollout_config_changed", nullptr);
	// Every backend drops its cached configuration when this commits (and this
	// backend at its next command).
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(nullptr);
}

}  // extern "C"
