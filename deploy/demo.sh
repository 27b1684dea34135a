#!/usr/bin/env bash
# The main job on the embedded default, on a fresh machine, with no server to start by hand:
#   1. `granary init` creates a sample feature repository (90 days of generated Parquet data ending now),
#   2. `granary apply` validates it against the real data and registers it (SQLite registry),
#   3. `granary get-historical-features` builds point-in-time correct training data (DuckDB) for an entity
#      dataframe through the feature service `driver_activity_v1`, including its on-demand view,
#   4. `granary materialize-incremental now` loads the latest values per entity into the online store (SQLite),
#   5. `granary get-online-features` reads them back through the entity grains, with statuses.
# Usage: deploy/demo.sh [DIR]   (default: ./demo; an existing repository there is reused)
# The first call of ./granary publishes the CLI once (.artifacts/cli); DuckDB's native library ships in DuckDB.NET.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-demo}
granary() { "$here/granary" "$@"; }

[ -f "$dir/granary.yaml" ] || granary init "$dir"
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
