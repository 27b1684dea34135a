#!/usr/bin/env bash
# Prints the project graph from the .csproj files, one edge a line ("from -> to", paths relative to the repository),
# and exits 1 when an edge points outward: the gateway (gateway/) onto a store, hosting or the grain implementations;
# a store onto another store (a store references core and at most the shared store libraries, which are not stores);
# core onto anything; a production project onto tests/ or bench/.
# Usage: deploy/project-graph.sh [--check-only]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

edges="$(
  find . -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' | sort | while read -r project; do
    from="${project#./}"
    from="${from%/*}"
    grep -o '<ProjectReference Include="[^"]*"' "$project" | sed 's/.*Include="//; s/"$//' | while read -r reference; do
      # Resolve the reference against the referencing project's folder, then drop the file name.
      to="$(realpath -m --relative-to="$root" "$(dirname "$project")/$reference")"
      echo "$from -> ${to%/*}"
    done
  done | sort -u
)"

[[ "${1:-}" == "--check-only" ]] || printf '%s\n' "$edges"

problems=0
outward() { echo "outward edge: $1 ($2)" >&2; problems=$((problems + 1)); }
while read -r from _ to; do
  [[ -z "$from" ]] && continue
  case "$from" in
    gateway/*)
      case "$to" in
        stores/*|hosting/Granary.Hosting|grains/Granary.Grains|grains/Granary.Grains.Diagnostics|cli/*|silo/*)
          outward "$from -> $to" "the gateway is an Orleans client: core, grain interfaces, grains client and contracts only" ;;
      esac ;;
    stores/*)
      case "$to" in
        # Shared store libraries: the embedded DuckDB engine both offline stores run on (no store interface, no registration).
        stores/Granary.Offline.Engine) ;;
        stores/*) outward "$from -> $to" "a store references core and shared store libraries only, never another store" ;;
        core/*) ;;
        *) outward "$from -> $to" "a store references core and shared store libraries only" ;;
      esac ;;
    core/*) outward "$from -> $to" "core references no other project" ;;
    grains/*|hosting/*|contracts/*|client/*)
      case "$to" in
        stores/*|cli/*|silo/*|gateway/*) outward "$from -> $to" "inner layers do not know hosts or stores" ;;
        tests/*|bench/*) outward "$from -> $to" "production code does not reference tests or benchmarks" ;;
      esac ;;
    cli/*|silo/*)
      case "$to" in
        tests/*|bench/*) outward "$from -> $to" "production code does not reference tests or benchmarks" ;;
      esac ;;
  esac
done <<< "$edges"
# The silo executable must not load test-only grains.
if grep -q 'Granary.Grains.Diagnostics' silo/Granary.Silo/Granary.Silo.csproj; then
  outward "silo/Granary.Silo -> grains/Granary.Grains.Diagnostics" "diagnostics grains are for tests and benchmarks only"
fi
# A shared store library is not a store: it implements no store interface and registers nothing.
if grep -rqE 'I(Offline|Online|Registry)Store(Provider)?\b|IServiceCollection' --include='*.cs' stores/Granary.Offline.Engine; then
  outward "stores/Granary.Offline.Engine" "a shared store library implements no store interface and registers nothing"
fi
# No source file compiled into two projects by path.
while read -r project; do
  if grep -qE '<(Compile|Protobuf) Include="\.\./' "$project"; then
    outward "$project" "compiles a file of another project by path; reference that project instead"
  fi
done < <(find . -name '*.csproj' -not -path '*/bin/*' -not -path '*/obj/*' | sort)

if (( problems > 0 )); then
  echo "$problems outward edge(s)" >&2
  exit 1
fi
