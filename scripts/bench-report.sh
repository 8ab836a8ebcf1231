#!/bin/bash
# The figures of README's Performance section, this checkout beside an earlier one, one run each:
#   bash scripts/bench-report.sh <earlier checkout or git ref> [output directory]
# Each benchmark prints one JSON line per scenario; the logs land in the output directory
# (default: a new temporary one). About 6 minutes on a quiet 2-core machine; run nothing else.
set -u
cd "$(dirname "$0")/.."
before="${1:?usage: bash scripts/bench-report.sh <earlier checkout or git ref> [output directory]}"
out="${2:-$(mktemp -d -t hod-bench-report-XXXXXX)}"
mkdir -p "$out"
node=node_modules/.bin/node
if [ ! -d "$before" ]; then
  # A ref: a checkout of it beside this one for the scenarios that take directories.
  dir="$(mktemp -d -t hod-before-XXXXXX)/checkout"
  git worktree add -q --detach "$dir" "$before" && ln -s "$PWD/node_modules" "$dir/node_modules"
  trap 'git worktree remove --force "$dir"' EXIT
  before="$dir"
fi
{ date; uptime; git log --oneline -1; echo "before: $before"; } > "$out/started"
BENCH_PREVIOUS="$before" timeout 1500 $node bench/e2e.ts > "$out/e2e.log" 2>&1
E2E_DEFAULT_ROOTS="$before,." E2E_DEFAULT_ROUNDS=3 timeout 900 $node bench/e2e-default.ts > "$out/e2e-default.log" 2>&1
BENCH_SYSLOG_ROOTS="$before,." BENCH_SYSLOG_ROUNDS=1 timeout 900 $node bench/syslog.ts > "$out/syslog.log" 2>&1
BENCH_PREVIOUS="$before" timeout 1500 $node bench/logplex.ts logplex-50-drains logplex-1000-drains-1-line burst-memory > "$out/logplex.log" 2>&1
BENCH_LOGPLEX_SECONDS=15 timeout 600 $node bench/logplex.ts workers > "$out/logplex-workers.log" 2>&1
BENCH_RUNS=3 timeout 900 $node bench/workers.ts > "$out/workers.log" 2>&1
{ date; uptime; } > "$out/finished"
grep -h '^{' "$out"/*.log
echo "logs: $out" >&2
