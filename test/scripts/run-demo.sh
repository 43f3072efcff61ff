#!/usr/bin/env bash
# make demo: builds and installs rollout_ext, starts a throwaway cluster and
# walks through a staged rollout's tagging in SQL.
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
cd "$REPO_ROOT"

ensure_dependencies
build_and_install
start_cluster
psql -X -q -v ON_ERROR_STOP=1 -f test/demo/walkthrough.sql
echo "== demo finished"
