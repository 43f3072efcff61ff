// The rollout version: a non-negative 64-bit integer, written either as plain
// digits or in the reference system's dotted form MAJOR.R.M[.FP[.EXT[.IMPL]]],
// which packs to the decimal digits xxyzaabbcc.
//
// Everything here is noexcept and allocation-free, so it can be called from
// backend code without any exception or longjmp crossing it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rollout {

using Version = std::int64_t;

constexpr Version kMaxVersion = INT64_MAX;

enum class ParseStatus {
	ok,
	empty,              // nothing but blanks
	invalid_character,  // a sign, a letter, an embedded blank...
	out_of_range,       // above 9223372036854775807
	part_out_of_range,  // R or M above 9, FP/EXT/IMPL above 99
	too_many_parts,     // more than six dotted parts
	empty_part,         // "10..1", "10.", ".1"
};

struct ParseResult {
	ParseStatus status;
	Version value;      // valid only when status == ok
	int bad_part;       // 1-based dotted part the error refers to, or 0
};

// Parses text[0..len). Leading and trailing blanks are allowed, as for integers.
ParseResult parse_version(const char *text, std::size_t len) noexcept;

// A sentence (capitalised, ending with a period) explaining a parse failure,
// suitable for errdetail / GUC_check_errdetail. Empty for ParseStatus::ok.
const char *parse_status_detail(ParseStatus status) noexcept;

// Buffer sizes that always suffice, terminating NUL included.
constexpr std::size_t kNumericBufferSize = 21;  // 19 digits + sign slack + NUL
constexpr std::size_t kDottedBufferSize = 32;   // 11 + 5 dots + 1+1+2+2+2 + NUL

// Writes the plain decimal form; returns its length. v must be >= 0.
std::size_t format_numeric(Version v, char *buf) noexcept;

// Writes the six-part dotted form, e.g. 1010111213 -> "10.1.0.11.12.13".
std::size_t format_dotted(Version v, char *buf) noexcept;

constexpr int compare_versions(Version a, Version b) noexcept
{
	return (a < b) ? -1 : (a > b) ? 1 : 0;
}

}  // namespace rollout
