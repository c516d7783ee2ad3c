#!/usr/bin/env bash
# Installs what is missing and starts the service; Swagger UI at http://127.0.0.1:PORT/swagger.
#   PORT=5080 (default)   Models__Directories__0=DIR  extra *.model.json directory
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
port="${PORT:-5080}"
# For a developer checkout with the reference material beside it, also offer the published
# s2cloudmask models (the service's own models are built in either way).
if [ -z "${Models__Directories__0:-}" ] && [ -d ../shared/models ]; then
  export Models__Directories__0="$(cd ../shared/models && pwd)"
fi
echo "S2CloudMask: Swagger UI at http://127.0.0.1:${port}/swagger"
exec dotnet run -c Release --project src/Api --urls "http://127.0.0.1:${port}"
