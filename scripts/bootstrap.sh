#!/usr/bin/env bash
# Installs what the service needs on a machine that has only Node 20 and Debian packages: pnpm at the pinned
# version, redis-server, bubblewrap, python3 and openssl when missing, and the workspace's dependencies. With
# --test it also installs Chromium and docker-compose, which two tests drive, and PostgreSQL's binaries for the
# peers bench's harness test. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm@$PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

# redis-server for the service and the tests; bubblewrap, the exec-agent's sandbox (it refuses to start without
# one); python3 for the built-in template's exec step, at /usr/bin where the sandbox sees it (the exec-agent runs it
# in the sandbox when no Docker engine answers); openssl for the TLS tests' throw-away certificates.
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -x /usr/bin/bwrap ] || missing="$missing bubblewrap"
[ -x /usr/bin/python3 ] || missing="$missing python3"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
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
