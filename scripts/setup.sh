#!/usr/bin/env bash
# Installs the system packages S2CloudMask needs (GDAL's C library), only when missing.
# Extra package names may be passed as arguments (the test script adds redis-server).
set -euo pipefail

packages=(libgdal32 gdal-bin "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is needed (https://dot.net); dotnet is not on PATH" >&2
  exit 1
fi
