EXTENSION = rollout_ext

MODULE_big = rollout_ext
CORE_OBJS = src/core/version.o src/core/routing.o src/core/histogram.o src/core/proportion_test.o
GLUE_OBJS = src/rollout_ext.o src/version_errors.o src/version_type.o \
	src/version_setting.o src/tagging_trigger.o src/claim_criteria.o src/claim_position.o \
	src/claim.o src/registry_cache.o src/version_usable.o src/ramp_routing.o \
	src/version_guard.o src/retag.o \
	src/sql_text.o src/claim_completion.o src/parent_probe.o src/claim_index.o \
	src/index_search.o src/direct_write.o src/direct_claim.o \
	src/direct_completion.o src/kept_plan.o src/claim_token.o \
	src/outcome_stats.o src/outcome_stats_sql.o src/plan_gate.o src/version_write_lock.o \
	src/settings.o src/extension_common.o
OBJS = $(CORE_OBJS) $(GLUE_OBJS)

DATA = $(wildcard sql/$(EXTENSION)--*.sql)

REGRESS = version_type version_setting client_types tagging tagging_default claim claim_position direct_claim direct_write_rules rollout_control routing_schemes outcome_stats parking progressive_rollout reference_agents kept_plans upgrade injection
# Specs that start progressive rollouts need rollout_stats, so a server with
# the library preloaded; against one without, run with ISOLATION_NEEDS_PRELOAD=
ISOLATION_NEEDS_PRELOAD = plan_concurrent
ISOLATION = tagging_concurrent claim_concurrent claim_ddl_race retag_concurrent phase_out_concurrent \
	$(ISOLATION_NEEDS_PRELOAD)
ISOLATION_OPTS = --inputdir=test/isolation

PG_CONFIG ?= pg_config

# C++17 without exceptions or RTTI: nothing in the extension can throw, so no
# exception can unwind into PostgreSQL. The server headers are system headers
# so that -Wextra judges only our code.
PG_CXXFLAGS = -std=c++17 -fno-exceptions -fno-rtti -Wall -Wextra -Werror -Wno-register \
	-isystem $(shell $(PG_CONFIG) --includedir-server) -MMD -MP
# zlib: the crc32 of the haproxy routing scheme.
SHLIB_LINK = -lstdc++ -lz
PG_CPPFLAGS = -I$(srcdir)/src

# PGXS would also compile the C++ to LLVM bitcode, without PG_CXXFLAGS.
override with_llvm = no

EXTRA_CLEAN = $(OBJS:.o=.d) test/unit/core_unit_test test/fuzz/version_fuzz

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Rebuild every object whose headers changed (struct layouts are shared
# between files).
-include $(OBJS:.o=.d)

.PHONY: test demo bench unit fuzz clients tap

# Every suite on a throwaway cluster; installs what is missing first.
test:
	bash test/scripts/run-tests.sh

# Ours against hand-written SQL, in one run on one throwaway cluster; QUICK=1
# for a two-minute sanity run. Results land in test/bench/results/.
bench:
	bash test/bench/run-bench.sh

# DEMO_ARGS passes options to the driver, e.g. make demo DEMO_ARGS="--orders 200".
demo:
	bash test/scripts/run-demo.sh

# The TAP tests of test/tap/t on PostgreSQL::Test::Cluster, against the
# installed extension; each starts clusters of its own.
tap:
	bash test/scripts/run-tap.sh

# The PgJDBC, psycopg and psycopg2 agents of test/clients, directly and
# through PgBouncer; installs the drivers it lacks.
clients:
	bash test/clients/run-clients.sh

# The pure C++ core on its own, without PostgreSQL.
unit:
	$(MAKE) -C test/unit run

fuzz:
	$(MAKE) -C test/fuzz run

# The two halves of PGXS's installcheck, so one failing suite does not hide
# the other.
.PHONY: installcheck-regress installcheck-isolation
installcheck-regress: submake $(REGRESS_PREP)
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation: submake
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
