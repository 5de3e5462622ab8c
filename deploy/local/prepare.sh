#!/usr/bin/env bash
# Shared local set-up for `npm run up` and `npm test`:
#   1. npm ci when node_modules is missing or older than package-lock.json
#   2. make sure Postgres / Redis / NATS are running (services.sh)
#   3. iptables for the partition tests' test hosts (test/support/netns-hosts.ts), as root only
#   4. build (tsc) unless CHAT_SKIP_BUILD=1
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

# The partition tests drop packets between network namespaces with iptables; only root can
# make namespaces, so only root needs it.
if [[ $(id -u) == 0 ]] && ! command -v iptables >/dev/null 2>&1 && [[ ! -x /usr/sbin/iptables ]]; then
  say "installing iptables (partition tests)..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null; }
fi

if [[ ${CHAT_SKIP_BUILD:-} == 1 ]]; then
  say "build skipped (CHAT_SKIP_BUILD=1)"
else
  say "building..."
  npm run build --silent
fi
say "done"
