// Which rows' versions a criteria's claims match.
#pragma once

enum class VersionMatch {
	any,      // multi_version off: every row
	exact,    // the row's version equals the caller's
	at_most,  // base_version: the row's version <= the caller's, or untagged
};
