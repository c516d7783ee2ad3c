#!/usr/bin/env bash
# Installs what is missing and starts the service; Swagger UI at http://127.0.0.1:PORT/swagger.
#   PORT=5080 (default)   Models__Directories__0=/abs/dir  extra *.model.json directory
# The service's own models (spectral, fast, temporal) are built in.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
port="${PORT:-5080}"
echo "S2CloudMask: Swagger UI at http://127.0.0.1:${port}/swagger"
exec dotnet run -c Release --project src/Api --urls "http://127.0.0.1:${port}"
