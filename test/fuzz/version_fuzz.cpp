// Fuzz target: any byte string either parses to a version that formats and
// re-parses to itself, or fails with a status that has a detail sentence.
#include "version.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	const char *text = reinterpret_cast<const char *>(data);
	const rollout::ParseResult parsed = rollout::parse_version(text, size);

	if (parsed.status != rollout::ParseStatus::ok) {
		if (rollout::parse_status_detail(parsed.status)[0] == '\0')
			std::abort();
		return 0;
	}
	if (parsed.value < 0)
		std::abort();

	char dotted[rollout::kDottedBufferSize];
	char numeric[rollout::kNumericBufferSize];
	const std::size_t dotted_len = rollout::format_dotted(parsed.value, dotted);
	const std::size_t numeric_len = rollout::format_numeric(parsed.value, numeric);
	if (dotted_len >= sizeof(dotted) || numeric_len >= sizeof(numeric))
		std::abort();

	const rollout::ParseResult again_dotted = rollout::parse_version(dotted, dotted_len);
	const rollout::ParseResult again_numeric = rollout::parse_version(numeric, numeric_len);
	if (again_dotted.status != rollout::ParseStatus::ok || again_dotted.value != parsed.value ||
	    again_numeric.status != rollout::ParseStatus::ok || again_numeric.value != parsed.value)
		std::abort();
	return 0;
}
