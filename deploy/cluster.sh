#!/usr/bin/env bash
# Runs a three-silo Granary cluster on Orleans on 127.0.0.1: PostgreSQL membership and reminders (Granary's schema,
# applied by the silos), Redis grain state, the Orleans dashboard on each silo's HTTP port.
# Usage: deploy/cluster.sh start [--repo DIR]|status|stop
#   --repo DIR             the feature repository (its granary.yaml) every silo serves; default $GRANARY_REPO. Without
#                          one the silos form a cluster that serves no features (only the diagnostics grains)
#   GRANARY_TEST_POSTGRES  Npgsql connection string of a PostgreSQL server to use (database granary_cluster is
#                          created there); unset: own PostgreSQL on $GRANARY_CLUSTER_PG_PORT (15433)
#   GRANARY_TEST_REDIS     host:port of a Redis to use; unset: own Redis on $GRANARY_CLUSTER_REDIS_PORT (16380)
#   GRANARY_CLUSTER_STATE  (default /tmp/granary-cluster) pids, logs, own servers' folders
#   GRANARY_CLUSTER_ID     (default granary)
#   silo i (0, 1, 2): silo port 11111+i, gateway port 30000+i, dashboard http://127.0.0.1:$((8080+i))/dashboard
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${GRANARY_CLUSTER_STATE:-/tmp/granary-cluster}
pg_port=${GRANARY_CLUSTER_PG_PORT:-15433}
redis_port=${GRANARY_CLUSTER_REDIS_PORT:-16380}
cluster_id=${GRANARY_CLUSTER_ID:-granary}
silos=3
silo_dll="$here/silo/Granary.Silo/bin/Release/net10.0/Granary.Silo.dll"

own_services() {
  GRANARY_TEST_STATE="$state/services" GRANARY_TEST_PG_PORT=$pg_port GRANARY_TEST_REDIS_PORT=$redis_port \
    "$here/deploy/test-services.sh" "$@"
}

# The PostgreSQL server: the one named by GRANARY_TEST_POSTGRES, or our own.
pg_server=${GRANARY_TEST_POSTGRES:-"Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Pooling=true"}
redis=${GRANARY_TEST_REDIS:-127.0.0.1:$redis_port}
pg_field() { # pg_field Port 5432: a field of the Npgsql connection string, or the default
  local value
  value=$(tr ';' '\n' <<<"$pg_server" | sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//Ip" | head -n 1)
  echo "${value:-$2}"
}
pg_host=$(pg_field Host 127.0.0.1)
pg_port_used=$(pg_field Port 5432)
pg_user=$(pg_field Username postgres)
database=granary_cluster
postgres="Host=$pg_host;Port=$pg_port_used;Username=$pg_user;Database=$database;Pooling=true"
psql_db() { psql -h "$pg_host" -p "$pg_port_used" -U "$pg_user" "$@"; }

active_count() {
  psql_db -d "$database" -tA -c \
    "SELECT count(*) FROM granary_membership WHERE cluster_id = '$cluster_id' AND status = 3" 2>/dev/null || echo 0
}

start() {
  local repo=${GRANARY_REPO:-}
  while [ $# -gt 0 ]; do
    case "$1" in
      --repo) [ $# -ge 2 ] || { echo "--repo needs a directory" >&2; exit 2; }; repo=$2; shift 2 ;;
      *) echo "unknown option '$1'; usage: $0 start [--repo DIR]" >&2; exit 2 ;;
    esac
  done
  local repo_args=()
  if [ -n "$repo" ]; then
    [ -f "$repo/granary.yaml" ] || { echo "--repo '$repo' has no granary.yaml; create one with 'granary init <dir>'" >&2; exit 2; }
    repo=$(cd "$repo" && pwd)
    repo_args=(--repo "$repo")
    echo "feature repository: $repo"
  else
    echo "no feature repository (--repo DIR or GRANARY_REPO): the silos will serve no features" >&2
  fi
  mkdir -p "$state"
  if [ -z "${GRANARY_TEST_POSTGRES:-}" ] || [ -z "${GRANARY_TEST_REDIS:-}" ]; then own_services start >/dev/null; fi
  psql_db -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
    || psql_db -d postgres -qc "CREATE DATABASE $database"
  echo "membership and reminders: PostgreSQL $pg_host:$pg_port_used database $database; grain state: Redis $redis"
  dotnet build "$here/silo/Granary.Silo/Granary.Silo.csproj" -c Release -v quiet -nologo -clp:ErrorsOnly >/dev/null
  for i in $(seq 0 $((silos - 1))); do
    pidfile="$state/silo-$i.pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "silo-$i already running (pid $(cat "$pidfile"))"; continue
    fi
    nohup dotnet "$silo_dll" --port $((11111 + i)) --gateway-port $((30000 + i)) --http-port $((8080 + i)) \
      --cluster-id "$cluster_id" --name "silo-$i" --postgres "$postgres" --redis "$redis" "${repo_args[@]}" >"$state/silo-$i.log" 2>&1 &
    echo $! >"$pidfile"
    echo "silo-$i: pid $!, silo port $((11111 + i)), gateway $((30000 + i)), dashboard http://127.0.0.1:$((8080 + i))/dashboard, log $state/silo-$i.log"
  done
  for _ in $(seq 1 300); do
    [ "$(active_count)" -ge "$silos" ] && break
    sleep 0.2
  done
  if [ "$(active_count)" -lt "$silos" ]; then
    echo "only $(active_count) of $silos silos became Active within 60 s; see $state/silo-*.log" >&2
    exit 1
  fi
  echo "cluster '$cluster_id' is up: $silos Active silos"
}

stop() {
  for pidfile in "$state"/silo-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"   # graceful: the silo leaves the cluster (ShuttingDown, then Dead), grains deactivate
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
  done
  if [ -z "${GRANARY_TEST_POSTGRES:-}" ] || [ -z "${GRANARY_TEST_REDIS:-}" ]; then own_services stop; fi
  echo "cluster '$cluster_id' stopped"
}

status() {
  for pidfile in "$state"/silo-*.pid; do
    [ -f "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: not running"; fi
  done
  psql_db -d "$database" -c \
    "SELECT silo_name, address || ':' || port AS endpoint, proxy_port AS gateway, generation,
            CASE status WHEN 1 THEN 'Created' WHEN 2 THEN 'Joining' WHEN 3 THEN 'Active' WHEN 4 THEN 'ShuttingDown'
                        WHEN 5 THEN 'Stopping' WHEN 6 THEN 'Dead' ELSE status::text END AS status,
            i_am_alive_time, suspect_times
     FROM granary_membership WHERE cluster_id = '$cluster_id' ORDER BY start_time" 2>/dev/null \
    || echo "membership table unreachable (PostgreSQL $pg_host:$pg_port_used database $database)"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--repo DIR]|status|stop" >&2; exit 2 ;;
esac
