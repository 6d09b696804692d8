#!/usr/bin/env bash
# Installs what the service needs on a machine that has only Node 20 and Debian packages: pnpm at the pinned
# version, redis-server and python3 when missing, and the workspace's dependencies. With --test it also installs
# Chromium and docker-compose, which two tests drive, and PostgreSQL's binaries for the peers bench's harness test.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm@$PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

# redis-server for the service and the tests; python3 for the built-in template's exec step (the exec-agent
# stand-in runs it as a local process when no Docker engine answers).
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ "${1:-}" = "--test" ]; then
  # The web view's browser test drives Chromium; the deployment check validates the compose files with docker-compose.
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing="$missing docker-compose"
  # The peers bench's harness test starts a private PostgreSQL from Debian's binaries (never the machine's server).
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing="$missing postgresql"
fi
if [ -n "$missing" ]; then
  echo "bootstrap: installing$missing" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

pnpm install --frozen-lockfile --reporter=silent
