#!/usr/bin/env bash
# `npm run bench [-- name...]`: compiles the benchmarks and runs them (all, or the named ones:
# ldap-read, http-read, simulator-scale, plan, apply, naive, html; `chaos`, by name only, runs the seeded
# chaos campaign of test/chaos over ENTRASYNC_BENCH_CHAOS_SEEDS seeds, default 1000, ~1 s each,
# then the crash series over ENTRASYNC_BENCH_CRASH_RUNS SIGKILLed CLI runs, default 100, ~10 s each).
# Each prints its figures; none asserts a timing. `apply` runs about 4 minutes (10,000 creates, 1% churn of 100,000 accounts; set
# ENTRASYNC_BENCH_CREATES=0 / ENTRASYNC_BENCH_TENANT=0 to skip those runs). By name only (issue 24):
# `read-latency` (cold plan at 100,000 people and 2,000 managed groups, parallel and sequential
# read, at the simulator's latency model and without; ~10 minutes) and `plan-scale` (cold plan at
# 10k/100k/300k people, ENTRASYNC_BENCH_SCALE=1000000 for a million).
set -euo pipefail
cd "$(dirname "$0")/.."
out=node_modules/.cache/entrasync-bench
npx tsc -p tsconfig.json --noEmit false --outDir "$out"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then names=(simulator-scale http-read ldap-read plan apply naive); fi
for name in "${names[@]}"; do
  printf '\n=== bench/%s\n' "$name"
  node --expose-gc "$out/bench/$name.js"
done
