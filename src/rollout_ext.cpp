// Module entry point.
#include "claim_position.hpp"
#include "outcome_stats.hpp"
#include "postgres_headers.hpp"
#include "settings.hpp"
#include "version_setting.hpp"

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void)
{
	define_settings();
	init_version_setting();
	init_claim_positions();
	init_outcome_stats();
	// Only after every rollout.* setting exists: reserving the prefix drops
	// placeholders (from postgresql.conf, ALTER ROLE/DATABASE, an early SET)
	// that no setting claims.
	MarkGUCPrefixReserved("rollout");
}

}  // extern "C"
