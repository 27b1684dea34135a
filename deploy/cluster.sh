#!/usr/bin/env bash
# Runs a real three-silo Granary cluster on 127.0.0.1: its own PostgreSQL (membership, reminders) and Redis (grain
# state), started with deploy/test-services.sh on separate ports and state folder, plus three silo processes.
# Usage: deploy/cluster.sh start|stop|status
#   GRANARY_CLUSTER_STATE (default /tmp/granary-cluster)   pids, logs, database folders
#   GRANARY_CLUSTER_PG_PORT (15433) GRANARY_CLUSTER_REDIS_PORT (16380) GRANARY_CLUSTER_SILO_PORT (11111, then +1, +2)
#   GRANARY_CLUSTER_ID (granary)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${GRANARY_CLUSTER_STATE:-/tmp/granary-cluster}
pg_port=${GRANARY_CLUSTER_PG_PORT:-15433}
redis_port=${GRANARY_CLUSTER_REDIS_PORT:-16380}
silo_port=${GRANARY_CLUSTER_SILO_PORT:-11111}
cluster_id=${GRANARY_CLUSTER_ID:-granary}
silos=3
postgres="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Pooling=true"
services() {
  GRANARY_TEST_STATE="$state/services" GRANARY_TEST_PG_PORT=$pg_port GRANARY_TEST_REDIS_PORT=$redis_port \
    "$here/deploy/test-services.sh" "$@"
}
silo_dll="$here/silo/Granary.Silo/bin/Release/net10.0/Granary.Silo.dll"

active_count() {
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tA -c \
    "SELECT count(*) FROM granary_membership WHERE cluster_id = '$cluster_id' AND status = 3" 2>/dev/null || echo 0
}

start() {
  mkdir -p "$state"
  services start >/dev/null
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
  dotnet build "$here/silo/Granary.Silo/Granary.Silo.csproj" -c Release -v quiet -nologo >/dev/null
  for i in $(seq 0 $((silos - 1))); do
    pidfile="$state/silo-$i.pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "silo-$i already running (pid $(cat "$pidfile"))"; continue
    fi
    port=$((silo_port + i))
    nohup dotnet "$silo_dll" --port "$port" --cluster-id "$cluster_id" --name "silo-$i" \
      --postgres "$postgres" --redis "127.0.0.1:$redis_port" >"$state/silo-$i.log" 2>&1 &
    echo $! >"$pidfile"
    echo "silo-$i: pid $!, port $port, log $state/silo-$i.log"
  done
  for _ in $(seq 1 150); do
    [ "$(active_count)" -ge "$silos" ] && break
    sleep 0.2
  done
  if [ "$(active_count)" -lt "$silos" ]; then
    echo "only $(active_count) of $silos silos became Active; see $state/silo-*.log" >&2
    exit 1
  fi
  echo "cluster '$cluster_id' is up: $silos Active silos"
}

stop() {
  for pidfile in "$state"/silo-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"   # graceful: ShuttingDown, grains deactivate and persist, then Dead
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
  done
  services stop
  echo "cluster stopped (silos, PostgreSQL and Redis on $pg_port/$redis_port)"
}

status() {
  for pidfile in "$state"/silo-*.pid; do
    [ -f "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name: running (pid $(cat "$pidfile"))"; else echo "$name: not running"; fi
  done
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c \
    "SELECT silo_name, address || ':' || port AS endpoint, generation,
            CASE status WHEN 2 THEN 'Joining' WHEN 3 THEN 'Active' WHEN 4 THEN 'ShuttingDown' WHEN 5 THEN 'Stopping' WHEN 6 THEN 'Dead' ELSE status::text END AS status,
            i_am_alive_time, suspect_times
     FROM granary_membership WHERE cluster_id = '$cluster_id' ORDER BY start_time" 2>/dev/null \
    || echo "membership table unreachable (PostgreSQL on $pg_port not running?)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
