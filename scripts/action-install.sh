#!/usr/bin/env bash
# Installs entrasync for the GitHub Action (action.yml) from the action's own checkout: the code
# of the commit the workflow pinned, with the dependencies of its package-lock.json (exact
# versions, integrity hashes). Never `npx entrasync` from the registry: a package of that name
# there is not this code, and the jobs that run it hold `id-token: write`.
#
# Lifecycle scripts are off for every dependency but better-sqlite3, whose native module needs
# its own (a prebuilt binary, or a compile); the build (tsc) needs the dev dependencies, which
# are pruned afterwards. A second use of the action in the same job finds the install done.
set -euo pipefail

root="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root"
marker=node_modules/.entrasync-action-installed
version=$(node -p 'require("./package.json").version')

if [ -f "$marker" ] && [ -f dist/cli/main.js ]; then
  echo "entrasync $version is already installed in $root"
  exit 0
fi

npm ci --ignore-scripts --no-audit --no-fund
npm rebuild better-sqlite3
npm run build
npm prune --omit=dev --ignore-scripts --no-audit --no-fund
touch "$marker"
echo "entrasync $version installed from $root"
