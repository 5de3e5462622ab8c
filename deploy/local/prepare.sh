#!/usr/bin/env bash
# Shared local set-up for `npm run up` and `npm test`:
#   1. npm ci when node_modules is missing or older than package-lock.json
#   2. make sure Postgres / Redis / NATS are running (services.sh)
#   3. build (tsc) unless CHAT_SKIP_BUILD=1
set -euo pipefail

cd "$(dirname "$0")/../.."

say() { printf '[prepare] %s\n' "$*"; }

if [[ ! -d node_modules ]] || [[ ! -f node_modules/.package-lock.json ]] \
    || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages..."
  npm ci --no-audit --no-fund
fi

say "checking services..."
bash deploy/local/services.sh 2>&1 | sed 's/^/[prepare] /'

if [[ ${CHAT_SKIP_BUILD:-} == 1 ]]; then
  say "build skipped (CHAT_SKIP_BUILD=1)"
else
  say "building..."
  npm run build --silent
fi
say "done"
