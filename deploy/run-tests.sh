#!/usr/bin/env bash
# The README's test command: installs and starts what the tests need (Redis, PostgreSQL),
# builds Cluster.sln, runs every test project, stops the servers, and exits non-zero on failure.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Registry").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
eval "$(deploy/test-services.sh start)"
trap 'deploy/test-services.sh stop' EXIT
# The independent gRPC client of the gateway's interop tests (Node's @grpc/grpc-js), pinned by its lock file.
npm ci --prefix tests/Granary.Gateway.Tests/interop --no-audit --no-fund --loglevel=error
dotnet build Cluster.sln -c Release --nologo -v q -clp:ErrorsOnly
log=$(mktemp)
status=0
# One test project at a time (-m:1): the suites include timing-based cluster and scheduler tests, and four
# test processes sharing two cores would only make those slower and noisier.
# A test that hangs fails after 10 minutes (with a dump) instead of holding CI until its own timeout.
# The console logger at "minimal" prints each failed test's name, message, stack and output, and no line per passed test
# (MSBuild's -v q alone would hide the failures' messages too).
dotnet test Cluster.sln -c Release --no-build --nologo -v q -m:1 --blame-hang-timeout 10m \
  --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole run, summed over the per-project "Passed!/Failed! - Failed: N, Passed: N" lines.
awk '/(Passed|Failed)! *- *Failed:/ {
       for (i = 1; i <= NF; i++) { gsub(",", "", $(i+1));
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ "$status" -eq 0 ] && ! grep -qE '(Passed|Failed)! *- *Failed:' "$log"; then
  echo "no test project ran" >&2; status=1
fi
rm -f "$log"
exit "$status"
