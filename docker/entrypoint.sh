#!/bin/sh
# The image's entrypoint (behind tini): `orchestrator <role> [args]` runs that role's process; no role means the API.
# `exec` replaces this shell with node, so the signals tini forwards reach node itself and its graceful shutdown.
# ORCHESTRATOR_HOME is where the runtime tree is: /app in the image, a temporary directory in the bundle test.
set -eu

ROLES="api worker cli data-abstractor ai-abstractor exec-agent"
home="${ORCHESTRATOR_HOME:-/app}"
role="${1:-api}"
if [ "$#" -gt 0 ]; then shift; fi

case "$role" in
  api | worker | cli | data-abstractor | ai-abstractor | exec-agent)
    exec node "$home/apps/$role/dist/main.js" "$@"
    ;;
  help | -h | --help)
    echo "usage: orchestrator [ROLE] [ARGS...]   roles: $ROLES (default: api)"
    ;;
  *)
    # Strict on purpose: a typo in a compose file or a pod spec should fail at start, not run something else.
    echo "orchestrator: unknown role '$role'; one of: $ROLES" >&2
    exit 64
    ;;
esac
