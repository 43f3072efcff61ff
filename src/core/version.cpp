#include "version.hpp"

#include "cpp_only.hpp"  // last: checks that nothing above pulled in PostgreSQL

namespace rollout {
namespace {

constexpr int kMaxDottedParts = 6;

// Weight of each dotted part in the packed digits xxyzaabbcc, and its ceiling.
// The major part has no ceiling of its own: only the 64-bit total bounds it.
constexpr Version kPartWeight[kMaxDottedParts] = {100000000, 10000000, 1000000, 10000, 100, 1};
constexpr Version kPartMax[kMaxDottedParts] = {kMaxVersion, 9, 9, 99, 99, 99};

bool is_blank(char c) noexcept
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_digit(char c) noexcept
{
	return c >= '0' && c <= '9';
}

// Appends a digit; false when the result would exceed kMaxVersion.
bool accumulate_digit(Version &acc, char digit) noexcept
{
	const Version d = digit - '0';
	if (acc > (kMaxVersion - d) / 10)
		return false;
	acc = acc * 10 + d;
	return true;
}

ParseResult fail(ParseStatus status, int bad_part = 0) noexcept
{
	return ParseResult{status, 0, bad_part};
}

ParseResult parse_numeric(const char *p, const char *end) noexcept
{
	Version value = 0;
	for (; p < end; ++p) {
		if (!is_digit(*p))
			return fail(ParseStatus::invalid_character);
		if (!accumulate_digit(value, *p))
			return fail(ParseStatus::out_of_range);
	}
	return ParseResult{ParseStatus::ok, value, 0};
}

ParseResult parse_dotted(const char *p, const char *end) noexcept
{
	Version parts[kMaxDottedParts] = {0, 0, 0, 0, 0, 0};
	int part = 0;
	bool part_has_digit = false;

	for (;; ++p) {
		if (p == end || *p == '.') {
			if (!part_has_digit)
				return fail(ParseStatus::empty_part, part + 1);
			if (p == end)
				break;
			if (++part == kMaxDottedParts)
				return fail(ParseStatus::too_many_parts, part + 1);
			part_has_digit = false;
			continue;
		}
		if (!is_digit(*p))
			return fail(ParseStatus::invalid_character, part + 1);
		if (!accumulate_digit(parts[part], *p))
			return fail(part == 0 ? ParseStatus::out_of_range : ParseStatus::part_out_of_range,
			            part + 1);
		part_has_digit = true;
	}

	Version value = 0;
	for (int i = kMaxDottedParts - 1; i >= 0; --i) {
		if (parts[i] > kPartMax[i])
			return fail(ParseStatus::part_out_of_range, i + 1);
		if (i == 0 && parts[0] > (kMaxVersion - value) / kPartWeight[0])
			return fail(ParseStatus::out_of_range, 1);
		value += parts[i] * kPartWeight[i];
	}
	return ParseResult{ParseStatus::ok, value, 0};
}

}  // namespace

ParseResult parse_version(const char *text, std::size_t len) noexcept
{
	const char *begin = text;
	const char *end = text + len;
	while (begin < end && is_blank(*begin))
		++begin;
	while (end > begin && is_blank(end[-1]))
		--end;
	if (begin == end)
		return fail(ParseStatus::empty);

	for (const char *p = begin; p < end; ++p)
		if (*p == '.')
			return parse_dotted(begin, end);
	return parse_numeric(begin, end);
}

const char *parse_status_detail(ParseStatus status) noexcept
{
	switch (status) {
	case ParseStatus::ok:
		return "";
	case ParseStatus::empty:
		return "A rollout version cannot be empty or blank.";
	case ParseStatus::invalid_character:
		return "A rollout version is plain digits, such as 1010111213, or dotted digits, "
		       "such as 10.1.0.11.12.13; signs, blanks and other characters are not allowed.";
	case ParseStatus::out_of_range:
		return "The largest rollout version is 9223372036854775807.";
	case ParseStatus::part_out_of_range:
		return "In MAJOR.R.M.FP.EXT.IMPL, R and M range from 0 to 9, and FP, EXT and IMPL "
		       "from 0 to 99.";
	case ParseStatus::too_many_parts:
		return "The dotted form has at most six parts: MAJOR.R.M.FP.EXT.IMPL.";
	case ParseStatus::empty_part:
		return "Every part of the dotted form needs at least one digit.";
	}
	return "";
}

std::size_t format_numeric(Version v, char *buf) noexcept
{
	char reversed[kNumericBufferSize];
	std::size_t n = 0;
	do {
		reversed[n++] = static_cast<char>('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (std::size_t i = 0; i < n; ++i)
		buf[i] = reversed[n - 1 - i];
	buf[n] = '\0';
	return n;
}

std::size_t format_dotted(Version v, char *buf) noexcept
{
	std::size_t n = format_numeric(v / kPartWeight[0], buf);
	for (int i = 1; i < kMaxDottedParts; ++i) {
		const Version modulus = kPartMax[i] + 1;
		buf[n++] = '.';
		n += format_numeric((v / kPartWeight[i]) % modulus, buf + n);
	}
	return n;
}

}  // namespace rollout
