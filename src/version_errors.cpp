#include "version_errors.hpp"

#include <cstring>

int version_parse_sqlstate(rollout::ParseStatus status)
{
	return status == rollout::ParseStatus::out_of_range ? ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
	                                                    : ERRCODE_INVALID_TEXT_REPRESENTATION;
}

#if PG_VERSION_NUM >= 160000
#define REPORT_VERSION_ERROR(escontext, ...) errsave(escontext, __VA_ARGS__)
#else
#define REPORT_VERSION_ERROR(escontext, ...) \
	do {                                     \
		(void) (escontext);                  \
		ereport(ERROR, __VA_ARGS__);         \
	} while (0)
#endif

namespace {

// ereports (or, on PostgreSQL 16+, saves into escontext as a soft error).
// Returns only when the error was saved softly.
void report_version_parse_failure(const char *input, rollout::ParseStatus status,
                                  Node *escontext)
{
	const char *detail = rollout::parse_status_detail(status);

	if (status == rollout::ParseStatus::out_of_range)
		REPORT_VERSION_ERROR(escontext,
		                     (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
		                      errmsg("value \"%s\" is out of range for type rollout_version", input),
		                      errdetail("%s", detail)));
	else
		REPORT_VERSION_ERROR(escontext,
		                     (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
		                      errmsg("invalid input syntax for type rollout_version: \"%s\"", input),
		                      errdetail("%s", detail)));
}

}  // namespace

bool parse_version_or_report(const char *input, rollout::Version *out, Node *escontext)
{
	const rollout::ParseResult parsed = rollout::parse_version(input, std::strlen(input));
	if (parsed.status != rollout::ParseStatus::ok) {
		report_version_parse_failure(input, parsed.status, escontext);
		return false;
	}
	*out = parsed.value;
	return true;
}
