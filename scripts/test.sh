#!/usr/bin/env bash
# Installs what is missing and runs every test of the solution, then prints one summary line.
# Tests that need ../shared are skipped (naming the path) when it is absent, unless CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh redis-server yamllint python3-yaml python3-jsonschema
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test S2CloudMask.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# On a processor with AVX-512 the engine's tests run a second time with it switched off, so
# the AVX2 kernels that nodes without it take are checked end to end too (parity included).
if [[ $status -eq 0 ]] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo "Engine tests again with AVX-512 switched off (DOTNET_EnableAVX512=0): the AVX2 kernels"
  DOTNET_EnableAVX512=0 dotnet test tests/S2CloudMask.Engine.Tests -c Release --nologo --no-build 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi

# Likewise with AVX-512 but without its byte permutes (VBMI; Skylake-X and Cascade Lake nodes):
# the published spectral forest then takes the AVX2 byte-shuffle walk (ShuffleForest) instead of PermuteForest.
if [[ $status -eq 0 ]] && grep -qw avx512vbmi /proc/cpuinfo 2>/dev/null; then
  echo "Engine tests again with AVX-512 VBMI switched off (DOTNET_EnableAVX512VBMI=0): the kernels without byte permutes"
  DOTNET_EnableAVX512VBMI=0 dotnet test tests/S2CloudMask.Engine.Tests -c Release --nologo --no-build 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
fi
set -e
# dotnet test prints one "Passed!/Failed! - Failed: F, Passed: P, Skipped: S" line per test assembly.
awk '/(Passed|Failed)! +- +Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "TOTAL: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
