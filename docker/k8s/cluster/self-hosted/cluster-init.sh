#!/bin/sh
# Forms the Redis Cluster once: 3 primaries and one replica each, from the six nodes in REDIS_CLUSTER_NODES
# (host:port,...; the same list the Orchestrator processes read). Runs as a one-shot (the compose variant's
# redis-cluster-init service, the Kubernetes overlay's Job) and is safe to run again:
#   - every node blank (knows only itself, no slots): `redis-cli --cluster create`;
#   - already formed: nothing is changed;
#   - formed, with some nodes blank (a node's volume was replaced): the cluster is left as it is and the blank
#     nodes are named, to be added by hand (re-creating would throw away the slots' data);
# then it waits until every formed node reports cluster_state:ok (and, after forming, until every primary has its
# replica connected and every node knows all six by gossip), so what starts after it finds a working cluster.
# A half-formed cluster (a create that died midway) never gets there: it fails on the deadline and names
# `redis-cli --cluster fix`. The password, if any, comes in REDISCLI_AUTH, which redis-cli reads (not argv).
# The copy in docker/k8s/cluster/self-hosted/ must stay identical (apps/deploy-check fails on drift).
set -eu

nodes=$(printf %s "${REDIS_CLUSTER_NODES:?REDIS_CLUSTER_NODES must list the nodes as host:port,...}" | tr ',' ' ')
timeout=${CLUSTER_INIT_TIMEOUT:-120}
deadline=$(($(date +%s) + timeout))

count=0
for node in $nodes; do count=$((count + 1)); done
if [ "$count" -ne 6 ]; then
  echo "cluster-init: REDIS_CLUSTER_NODES names $count nodes; this layout needs 6 (3 primaries, 3 replicas)" >&2
  exit 2
fi

cli() {
  node=$1
  shift
  redis-cli -h "${node%:*}" -p "${node##*:}" "$@"
}

# One field of CLUSTER INFO (empty when the node does not answer).
info() {
  cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

# Polls a condition once a second until it holds or the deadline passes (nodes start in any order).
wait_for() {
  what=$1
  shift
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "cluster-init: gave up after ${timeout}s waiting for $what" >&2
      return 1
    fi
    sleep 1
  done
}

answers() { [ "$(cli "$1" ping 2>/dev/null)" = PONG ]; }
state_ok() { [ "$(info "$1" cluster_state)" = ok ]; }
# `--cluster create` returns once the nodes agree on the slots; a node may still be learning its peers by gossip.
knows_all() { [ "$(info "$1" cluster_known_nodes)" = "$count" ]; }
# Three primaries, each with a connected replica: before that, a write acknowledged with WAIT 1 would time out.
replicated() {
  served=0
  for n in $nodes; do
    replication=$(cli "$n" info replication 2>/dev/null | tr -d '\r')
    case "$replication" in
      *role:master*)
        replicas=$(printf %s "$replication" | sed -n 's/^connected_slaves://p')
        [ "${replicas:-0}" -ge 1 ] && served=$((served + 1))
        ;;
    esac
  done
  [ "$served" -eq 3 ]
}

for node in $nodes; do wait_for "$node to answer PING" answers "$node"; done

formed=""
blank=""
for node in $nodes; do
  if [ "$(info "$node" cluster_known_nodes)" = 1 ] && [ "$(info "$node" cluster_slots_assigned)" = 0 ]; then
    blank="$blank $node"
  else
    formed="$formed $node"
  fi
done

if [ -z "$formed" ]; then
  echo "cluster-init: forming the cluster from$blank"
  # shellcheck disable=SC2086 # one word per node
  redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes
  formed=$blank
  wait_for "every primary to have a connected replica" replicated
  for node in $nodes; do wait_for "$node to know all $count nodes" knows_all "$node" || exit 1; done
elif [ -n "$blank" ]; then
  echo "cluster-init: the cluster is formed on$formed; not part of it:$blank." >&2
  echo "cluster-init: left as it is; add each with: redis-cli --cluster add-node <new host:port> <member host:port> --cluster-slave" >&2
else
  echo "cluster-init: the cluster is already formed; nothing to do"
fi

for node in $formed; do
  if ! wait_for "$node to report cluster_state:ok" state_ok "$node"; then
    echo "cluster-init: $node says: $(info "$node" cluster_state); inspect with redis-cli --cluster check $node, repair with redis-cli --cluster fix $node" >&2
    exit 1
  fi
done
echo "cluster-init: cluster_state:ok on every node"
