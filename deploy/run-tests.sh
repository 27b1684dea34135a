#!/usr/bin/env bash
# The README's test command: installs and starts what the tests need (Redis, PostgreSQL, Chromium,
# libduckdb), runs every test project of Cluster.sln, stops the servers, and exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
eval "$(deploy/test-services.sh start)"
trap 'deploy/test-services.sh stop' EXIT
dotnet build Cluster.sln -c Release --nologo -v q -clp:ErrorsOnly
dotnet test Cluster.sln -c Release --no-build --nologo -v q "$@"
