// Module entry point.
#include "claim_position.hpp"
#include "direct_write.hpp"
#include "outcome_stats.hpp"
#include "postgres_headers.hpp"
#include "rollout_config.hpp"
#include "version_guard.hpp"
#include "version_setting.hpp"

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void)
{
	define_version_setting();
	define_config_settings();
	define_guard_settings();
	init_claim_positions();
	define_direct_write_setting();
	init_outcome_stats();
	// Only after every rollout.* setting exists: reserving the prefix drops
	// placeholders (from postgresql.conf, ALTER ROLE/DATABASE, an early SET)
	// that no setting claims.
	MarkGUCPrefixReserved("rollout");
}

}  // extern "C"
