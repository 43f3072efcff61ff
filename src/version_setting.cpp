#include "version_setting.hpp"

#include "postgres_headers.hpp"
#include "settings.hpp"
#include "version_errors.hpp"

extern "C" {
#include "utils/guc_tables.h"
}

#include <cstdlib>
#include <cstring>

namespace {

// What the check hook parsed, handed to the assign hook through GUC "extra".
struct ParsedSetting {
	bool is_set;
	rollout::Version version;
};

ParsedSetting current_setting = {false, 0};

// rollout.version's own GUC record. Its stack of prior values is non-empty
// exactly while a change made in the current transaction is in effect (SET,
// SET LOCAL, set_config, a function's SET clause); PostgreSQL pops it at
// commit and abort. A value that came from before the transaction has no
// stack, whatever brought it: an earlier transaction's SET, connection
// options, ALTER ROLE or DATABASE, or the placeholder PostgreSQL re-applies
// when the library loads. An assign hook cannot tell these apart (the
// re-applied placeholder looked like a change in the loading transaction).
struct config_generic *version_record = nullptr;

struct config_generic *find_version_record()
{
#if PG_VERSION_NUM >= 160000
	return find_option("rollout.version", false, false, ERROR);
#else
	struct config_generic **records = get_guc_variables();
	const int count = GetNumConfigOptions();
	for (int i = 0; i < count; ++i)
		if (std::strcmp(records[i]->name, "rollout.version") == 0)
			return records[i];
	elog(ERROR, "rollout_ext: rollout.version is not defined");
	return nullptr;
#endif
}

}  // namespace

bool check_version_setting(char **newval, void **extra, GucSource)
{
	ParsedSetting parsed = {false, 0};
	const char *text = *newval ? *newval : "";

	if (text[0] != '\0') {
		const rollout::ParseResult result = rollout::parse_version(text, std::strlen(text));
		if (result.status != rollout::ParseStatus::ok) {
			GUC_check_errcode(version_parse_sqlstate(result.status));
			if (result.status == rollout::ParseStatus::out_of_range)
				GUC_check_errmsg("value \"%s\" is out of range for type rollout_version", text);
			else
				GUC_check_errmsg("invalid input syntax for type rollout_version: \"%s\"", text);
			GUC_check_errdetail("%s", rollout::parse_status_detail(result.status));
			GUC_check_errhint("Set rollout.version to a version such as '1010111213' or "
			                  "'10.1.0.11.12.13', or to '' for no version.");
			return false;
		}
		parsed = {true, result.value};
	}

	// GUC frees "extra" with free(); guc_malloc is exported only from 16 on.
#if PG_VERSION_NUM >= 160000
	void *memory = guc_malloc(LOG, sizeof(ParsedSetting));
#else
	void *memory = malloc(sizeof(ParsedSetting));
#endif
	if (memory == nullptr) {
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		return false;
	}
	ParsedSetting *stored = static_cast<ParsedSetting *>(memory);
	*stored = parsed;
	*extra = stored;
	return true;
}

void assign_version_setting(const char *, void *extra)
{
	current_setting = *static_cast<const ParsedSetting *>(extra);
}

void init_version_setting()
{
	version_record = find_version_record();
}

bool session_version(rollout::Version *out)
{
	if (!current_setting.is_set)
		return false;
	if (version_scope == kScopeTransaction && version_record->stack == nullptr)
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		         errmsg("rollout.version was set before this transaction"),
		         errdetail("rollout.version_scope is 'transaction': a version set for the session "
		                   "may belong to another client of the same pooled connection."),
		         errhint("Use SET LOCAL rollout.version or set_config('rollout.version', ..., "
		                 "true) inside the transaction, or pass as_version.")));
	*out = current_setting.version;
	return true;
}

extern "C" {

PG_FUNCTION_INFO_V1(rollout_current_version);
Datum rollout_current_version(PG_FUNCTION_ARGS)
{
	(void) fcinfo;
	rollout::Version version;
	if (!session_version(&version))
		PG_RETURN_NULL();
	return Int64GetDatum(version);
}

}  // extern "C"
