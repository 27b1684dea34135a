#!/usr/bin/env bash
# Starts (or stops) the real servers Granary's tests use, on 127.0.0.1 only:
#   Redis on $GRANARY_TEST_REDIS_PORT (default 16379) and PostgreSQL on $GRANARY_TEST_PG_PORT (default 15432).
# It also installs prometheus/promtool and chromium, which tests start themselves on free ports.
# Usage: deploy/test-services.sh start|stop|env
# `start` installs missing Debian packages first, then prints the
# environment variables the tests read; `eval "$(deploy/test-services.sh env)"` exports them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${GRANARY_TEST_STATE:-/tmp/granary-test-services}
redis_port=${GRANARY_TEST_REDIS_PORT:-16379}
pg_port=${GRANARY_TEST_PG_PORT:-15432}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

print_env() {
  echo "export GRANARY_TEST_REDIS=127.0.0.1:$redis_port"
  echo "export GRANARY_TEST_POSTGRES='Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Pooling=true'"
}

install_deps() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -n "$pg_bin" ] || missing+=(postgresql)
  # A real Prometheus (and promtool) for the metrics tests, a real browser for the UI tests.
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v chromium >/dev/null || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} ..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
}

start() {
  install_deps
  mkdir -p "$state/redis" "$state/pg"
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    # appendonly: tests that restart Redis expect acknowledged writes back.
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$state/redis" --save '' --appendonly yes \
      --daemonize yes --logfile "$state/redis/redis.log" --pidfile "$state/redis/redis.pid" >&2
  fi
  chown -R postgres:postgres "$state/pg"
  if [ ! -f "$state/pg/data/PG_VERSION" ]; then
    su postgres -s /bin/sh -c "$pg_bin/initdb -D $state/pg/data -U postgres --auth=trust -E UTF8 >/dev/null"
  fi
  if ! su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $state/pg/data status" >/dev/null 2>&1; then
    su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $state/pg/data -l $state/pg/pg.log -w -o '-p $pg_port -k $state/pg -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off' start" >&2
  fi
  # Until PONG: while Redis replays its append-only file it answers "LOADING" (and redis-cli still exits 0), and
  # tests started then fail on the first command.
  for _ in $(seq 1 600); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  print_env
}

stop() {
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  if [ -n "$pg_bin" ] && [ -f "$state/pg/data/PG_VERSION" ]; then
    su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D $state/pg/data -m fast stop" >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
