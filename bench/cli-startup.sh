#!/usr/bin/env bash
# CLI start-up and command times through ./granary (the published binary), on the sample repository.
# Usage: bench/cli-startup.sh [RUNS]   (default 10). Prints min / median / max wall time per command in seconds.
# Each command runs once to warm the file cache, then RUNS times; the machine's load average is printed with the figures.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
repo=$(mktemp -d /tmp/granary-bench-cli.XXXXXX)
trap 'rm -rf "$repo"' EXIT
g="$here/granary"
"$g" --help > /dev/null                       # publishes the CLI first if its sources changed
"$g" init "$repo/demo" > /dev/null
"$g" --repo "$repo/demo" apply > /dev/null   # version 1; the runs below change nothing

commands=(
  "--help"
  "--repo $repo/demo registry history"
  "--repo $repo/demo registry list"
  "--repo $repo/demo registry show driver_hourly_stats"
  "--repo $repo/demo plan"
  "--repo $repo/demo apply"
)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-45s %8s %8s %8s\n' command min median max
for c in "${commands[@]}"; do
  "$g" $c > /dev/null   # warm-up (file cache)
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s%N); "$g" $c > /dev/null; end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))")
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  n=${#sorted[@]}
  printf '%-45s %8.3f %8.3f %8.3f\n' "${c/$repo\/demo/demo}" \
    "$(echo "${sorted[0]}/1000" | bc -l)" "$(echo "${sorted[$((n / 2))]}/1000" | bc -l)" "$(echo "${sorted[$((n - 1))]}/1000" | bc -l)"
done
