#!/usr/bin/env bash
# The main job on the embedded default, on a fresh machine, with no server to start by hand:
#   1. `granary init` creates a sample feature repository (90 days of generated Parquet data ending now),
#   2. `granary apply` validates it against the real data and registers it (SQLite registry),
#   3. `granary get-historical-features` builds point-in-time correct training data (DuckDB) for an entity
#      dataframe through the feature service `driver_activity_v1`, including its on-demand view,
#   4. `granary materialize-incremental now` loads the latest values per entity into the online store (SQLite),
#   5. `granary get-online-features` reads them back through the entity grains, with statuses,
#   6. `granary serve` runs the feature server in the background on free ports; curl reads online features over
#      Feast's REST API, a small C# client (bench/Granary.Bench.Gateway, `once` mode) reads them over gRPC
#      (feast.serving.ServingService), a row pushed over REST is served at once; then the server stops.
#      Authorization stays on: the demo adds permissions.yaml (roles reader and writer) and creates an API key with
#      `granary auth create-key`; every call sends it as 'Authorization: Bearer <key>', and a call without it is refused.
# Usage: deploy/demo.sh [DIR]   (default: ./demo; an existing repository there is reused)
# The first call of ./granary publishes the CLI once (.artifacts/cli); DuckDB's native library ships in DuckDB.NET.
# Needs the .NET SDK and curl.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-demo}
granary() { "$here/granary" "$@"; }

[ -f "$dir/granary.yaml" ] || granary init "$dir"
# Who may do what (Feast's permission model; deny by default): a reader may describe and read, a writer may write.
[ -f "$dir/permissions.yaml" ] || cat > "$dir/permissions.yaml" <<'YAML'
permissions:
  - name: demo-readers
    actions: [DESCRIBE, READ_ONLINE, READ_OFFLINE]
    policy: {roles: [reader]}
  - name: demo-writers
    types: [feature_view, data_source]
    actions: [WRITE_ONLINE, WRITE_OFFLINE]
    policy: {roles: [writer]}
YAML
granary --repo "$dir" apply

# An entity dataframe as a training pipeline would send it: keys, the time of each label, request data, a label.
entities="$dir/data/entities.csv"
{
  echo "driver_id,customer_id,event_timestamp,val_to_add,val_to_add_2,label"
  i=0
  for driver in 1001 1002 1003 1004 1005; do
    for hours_ago in 1 30 200 1000 3000; do
      customer=$((201 + i % 5)); i=$((i + 1))
      echo "$driver,$customer,$(date -u -d "-$hours_ago hours" +%Y-%m-%dT%H:%M:%SZ),$i,$((i * 10)),$((i % 2))"
    done
  done
  echo "9999,201,$(date -u +%Y-%m-%dT%H:%M:%SZ),0,0,0"   # an unknown driver: its features come back empty
} > "$entities"

granary --repo "$dir" get-historical-features --entities "$entities" --service driver_activity_v1 \
  --out "$dir/data/training.csv" --full-feature-names
echo
echo "Training data ($dir/data/training.csv), first rows:"
head -n 8 "$dir/data/training.csv" | column -s, -t

echo
echo "Materializing the latest values into the online store ..."
granary --repo "$dir" materialize-incremental now
echo
echo "Online features through the feature service (driver 9999 is unknown: NOT_FOUND):"
granary --repo "$dir" get-online-features --service driver_activity_v1 \
  --entity driver_id=1001,customer_id=201,val_to_add=1,val_to_add_2=10 \
  --entity driver_id=9999,customer_id=201,val_to_add=1,val_to_add_2=10

# --- The feature server: REST and gRPC against a running `granary serve` ---
# Three free loopback ports (REST, gRPC, web): nothing answers a connect on them (bash's /dev/tcp, no extra tools).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if port_free "$p" && [ "$p" != "${1:-}" ]; then echo "$p"; return 0; fi
  done
  echo "demo: no free port found" >&2; return 1
}
rest_port=$(free_port); grpc_port=$(free_port "$rest_port")
web_port=$(free_port "$rest_port"); while [ "$web_port" = "$grpc_port" ]; do web_port=$(free_port "$rest_port"); done
rest="http://127.0.0.1:$rest_port"; grpc="http://127.0.0.1:$grpc_port"; web="http://127.0.0.1:$web_port"
log="$dir/serve.log"

# The gRPC client is built before the server starts, so the two builds do not compete with it.
echo
echo "Building the small gRPC client (bench/Granary.Bench.Gateway) ..."
dotnet build "$here/bench/Granary.Bench.Gateway/Granary.Bench.Gateway.csproj" -c Release -v q -nologo -clp:ErrorsOnly >/dev/null
grpc_client() { dotnet "$here/bench/Granary.Bench.Gateway/bin/Release/net10.0/Granary.Bench.Gateway.dll" once "$@"; }

echo "Creating an API key for the demo (granary auth create-key; only its salted hash is stored in the registry database) ..."
key=$(granary --repo "$dir" auth create-key --principal demo --roles reader,writer | tail -n 1)
export GRANARY_API_KEY="$key"   # the gRPC client below reads it from the environment, never from its command line
# curl reads the header from a file only this user may read, so the key stays out of the process list.
header_file="$dir/data/.authorization"
(umask 077; printf 'Authorization: Bearer %s\n' "$key" > "$header_file")
auth=(-H "@$header_file")

echo "Starting the feature server: granary --repo $dir serve --rest-port $rest_port --grpc-port $grpc_port --web-port $web_port (log: $log)"
# exec: $! is the server itself, so the TERM below reaches it (a background job ignores SIGINT).
( exec "$here/granary" --repo "$dir" serve --rest-port "$rest_port" --grpc-port "$grpc_port" --web-port "$web_port" >"$log" 2>&1 ) &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
}
trap stop_server EXIT

for i in $(seq 1 120); do
  if curl -fsS "$rest/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "demo: the server stopped; its log:" >&2; cat "$log" >&2; exit 1; fi
  [ "$i" = 120 ] && { echo "demo: no healthy answer from $rest/health within 60 s; log: $log" >&2; exit 1; }
  sleep 0.5
done
echo "healthy: GET $rest/health -> $(curl -fsS "$rest/health")"
echo "feature catalog (UI): $web/ui/ -> HTTP $(curl -sS -o /dev/null -w '%{http_code}' "${auth[@]}" "$web/ui/"); Orleans dashboard: $web/dashboard/"
echo
echo "Without credentials the server refuses (deny by default):"
echo "  POST $rest/get-online-features without Authorization -> HTTP $(curl -sS -o /dev/null -w '%{http_code}' -X POST "$rest/get-online-features" -H 'Content-Type: application/json' -d '{"features": ["driver_hourly_stats:conv_rate"], "entities": {"driver_id": [1001]}}')"

echo
echo "REST (Feast's shape): POST $rest/get-online-features"
curl -sS --fail-with-body "${auth[@]}" -X POST "$rest/get-online-features" -H 'Content-Type: application/json' \
  -d '{"features": ["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"], "entities": {"driver_id": [1001, 9999]}}'
echo

echo
grpc_client --grpc "$grpc" --features driver_hourly_stats:conv_rate,driver_hourly_stats:avg_daily_trips \
  --entity driver_id=1001 --entity driver_id=9999

echo
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "Pushing a fresh row for driver 1001 over REST (POST $rest/push, to the online store) ..."
curl -sS --fail-with-body "${auth[@]}" -X POST "$rest/push" -H 'Content-Type: application/json' \
  -d "{\"push_source_name\": \"driver_stats_push\", \"to\": \"online\", \"df\": {\"driver_id\": [1001], \"event_timestamp\": [\"$now\"], \"created\": [\"$now\"], \"conv_rate\": [0.99], \"acc_rate\": [0.42]}}"
echo "served right after the push (driver_stats_fresh, fed by the push source):"
curl -sS --fail-with-body "${auth[@]}" -X POST "$rest/get-online-features" -H 'Content-Type: application/json' \
  -d '{"features": ["driver_stats_fresh:conv_rate", "driver_stats_fresh:acc_rate"], "entities": {"driver_id": [1001]}}'
echo
grpc_client --grpc "$grpc" --features driver_stats_fresh:conv_rate,driver_stats_fresh:acc_rate --entity driver_id=1001

stop_server
trap - EXIT
echo
echo "Stopped the server. What to look at:"
echo "  - $dir/data/training.csv: point-in-time correct training rows (one per entity row, label included)"
echo "  - the REST answers above: Feast's column-major shape, driver 9999 NOT_FOUND, the pushed row PRESENT at once"
echo "  - the gRPC answers: the same values over feast.serving.ServingService (Feast's gRPC wire format)"
echo "  - $log: the endpoints the server printed; run it yourself with: ./granary --repo $dir serve"
echo "    and open the feature catalog at http://127.0.0.1:8888/ui/ and the Orleans dashboard at http://127.0.0.1:8888/dashboard/"
echo "    (the web port, --web-port; browsers refuse Feast's REST port 6566). The catalog asks for an API key: make one with"
echo "    ./granary --repo $dir auth create-key --principal me --roles reader. The dashboard cannot send a key, so with"
echo "    authorization on it answers 401; to browse it on your own machine, add 'security: {authorization: off}' to $dir/granary.yaml."
echo "  - $dir/permissions.yaml: who may do what (roles reader and writer); the demo's API key holds both (granary auth list-keys)"
