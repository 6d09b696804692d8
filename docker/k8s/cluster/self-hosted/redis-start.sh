#!/bin/sh
# Starts one Redis Cluster node of redis-cluster.yaml: `redis-server "$@"` in the current directory (the pod's
# /data), after bringing the peers' addresses in nodes.conf up to date.
#
# Why: the cluster bus reaches peers by the IP addresses nodes.conf recorded, and a pod gets a new IP whenever it
# is re-created. One pod coming back is harmless (it knows the others' addresses, and they learn its new one from
# its first PING), but when all six come back at once every recorded address is stale and no node can reach
# another. Each peer's line also carries its announced hostname (the pod's DNS name, which the headless Service
# resolves as soon as the pod has an IP, ready or not): resolving it replaces the stale address. A peer that does
# not resolve yet keeps its old one and is corrected by gossip once any node reaches it.
set -eu
set -f # the lines are split into words below; no globbing

# A function: `set --` below must not replace the script's own arguments (redis-server's).
resolve_peers() {
  updated=nodes.conf.resolved
  : >"$updated"
  while IFS= read -r line; do
    # <id> <ip>:<port>@<cport>[,<hostname>[,<aux>=<value>...]] <flags> ...
    # shellcheck disable=SC2086 # word splitting wanted
    set -- $line
    if [ $# -ge 3 ] && [ "${2#*,}" != "$2" ]; then
      case ",$3," in
        *,myself,*) ;; # a node learns its own address from its peers
        *)
          host=$(printf %s "$2" | cut -d, -f2)
          ip=""
          [ -n "$host" ] && ip=$(getent hosts "$host" 2>/dev/null | awk '{ print $1; exit }')
          if [ -n "$ip" ]; then
            line="$1 $ip:${2##*:}${line#"$1 $2"}"
          fi
          ;;
      esac
    fi
    printf '%s\n' "$line" >>"$updated"
  done <nodes.conf
  mv "$updated" nodes.conf
}

if [ -f nodes.conf ]; then resolve_peers; fi

exec redis-server "$@"
