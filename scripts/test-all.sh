#!/usr/bin/env bash
# Every check and every test, as CI runs them (`npm run test:all`, after `npm ci`).
# Installs or starts what the tests need; a real server that cannot start fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "build"
npm run --silent build

step "lint (ESLint + Prettier)"
npm run --silent lint

step "typecheck"
npm run --silent typecheck

step "test servers (slapd, Samba AD DC): install if missing"
bash scripts/install-test-servers.sh

step "tests"
report="$(mktemp -t entrasync-vitest-XXXXXX.json)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?

step "quickstart (the README's main job)"
npm run --silent quickstart || { echo "quickstart failed"; status=1; }

# One plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report"
rm -f "$report"
exit "$status"
