#!/usr/bin/env bash
# HTTP load test of the service: POST /mask with a 1024 x 1024 x 10 float32 .npy, PNG mask
# back, N concurrent clients (wrk, closed loop) for a fixed time. Prints requests/s, p50 /
# p90 / p99 latency, errors, and the service's RSS over the run (sampled every second from
# /proc/PID/status), says whether memory stayed flat, and rewrites the "HTTP load test"
# section of BENCHMARKS.md.
#
#   bench/loadtest/loadtest.sh                    # 8 clients, 60 s, model fast; updates BENCHMARKS.md
#   bench/loadtest/loadtest.sh --duration 10s     # quick try (BENCHMARKS.md left alone)
#   bench/loadtest/loadtest.sh --help
#
# Needs wrk (apt-get install -y wrk), python3 (standard library only), the .NET 10 SDK and
# libgdal (PNG encoding; ./scripts/run.sh installs it). The service runs from its Release
# build with its built-in models only, on a free port of 127.0.0.1, and is always stopped.
# Exit status 0 only when there was no error and memory was flat.
set -euo pipefail

LOADTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LOADTEST_DIR/../.." && pwd)

DURATION=60s
WARMUP=10s
THREADS=8
CONNECTIONS=8
MODEL=fast
FORMAT=png
SIZE=1024
TIMEOUT=30s
FLAT_TOLERANCE=10           # percent: last-quarter mean RSS vs second-quarter mean
UPDATE=auto                 # auto: update BENCHMARKS.md only for a full 60 s run
SOURCE="${SOURCE:-$ROOT/../shared/data/clear-wright-20160101.npy}"
BUILD=1

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --duration D      wrk run time (default $DURATION; e.g. 10s for a quick try)
  --warmup D        warm-up with the same load before measuring (default $WARMUP; 0 skips it)
  --threads N       wrk threads (default $THREADS)
  --connections N   concurrent clients (default $CONNECTIONS)
  --model NAME      model (default $MODEL)
  --size N          body is N x N x 10 float32 (default $SIZE)
  --timeout D       wrk per-request timeout (default $TIMEOUT)
  --source FILE     (y, x, 10) float32 .npy tiled into the body (default ../shared/data/clear-wright-20160101.npy)
  --update          rewrite the BENCHMARKS.md section even for a run other than 60 s
  --no-update       leave BENCHMARKS.md alone
  --no-build        use the existing Release build of src/Api
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --model) MODEL=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --source) SOURCE=$2; shift 2 ;;
        --update) UPDATE=1; shift ;;
        --no-update) UPDATE=0; shift ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [[ "$UPDATE" == auto ]]; then
    if [[ "$DURATION" == 60s || "$DURATION" == 1m ]]; then UPDATE=1; else UPDATE=0; fi
fi

log() { printf '[loadtest] %s\n' "$*" >&2; }
die() { printf '[loadtest] error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------
command -v wrk >/dev/null 2>&1 || die "wrk is not installed: apt-get install -y wrk (sudo when not root)"
command -v python3 >/dev/null 2>&1 || die "python3 is not installed: apt-get install -y python3"
command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK (dotnet) is not on PATH"
command -v curl >/dev/null 2>&1 || die "curl is not installed: apt-get install -y curl"
[[ -f "$SOURCE" ]] || die "source scene not found: $SOURCE (the shared data folder ../shared beside the repository, or --source FILE)"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$LOADTEST_DIR/results/$STAMP"
mkdir -p "$OUT"
BODY="$LOADTEST_DIR/results/body-${SIZE}x${SIZE}x10-f32.npy"

# --- cleanup: the service never outlives the script ---------------------------------------
SERVICE_PID=""
SAMPLER_PID=""
WRK_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$WRK_PID" ]] && kill -0 "$WRK_PID" 2>/dev/null; then
        kill "$WRK_PID" 2>/dev/null || true
        wait "$WRK_PID" 2>/dev/null || true
    fi
    if [[ -n "$SAMPLER_PID" ]] && kill -0 "$SAMPLER_PID" 2>/dev/null; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        log "stopping the service (pid $SERVICE_PID)"
        kill -TERM "$SERVICE_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVICE_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVICE_PID" 2>/dev/null; then
            log "the service did not stop in 10 s: SIGKILL"
            kill -KILL "$SERVICE_PID" 2>/dev/null || true
        fi
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    exit "$rc"
}
trap cleanup EXIT
# wrk runs in the background and is waited for, so that a signal stops the script at once
# (bash defers traps until a foreground child ends).
run_wrk() {
    local out=$1 rc=0
    shift
    wrk "$@" > "$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    return "$rc"
}
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ---------------------------------------------------------------------------------
API_DIR="$ROOT/src/Api/bin/Release/net10.0"
if [[ "$BUILD" == 1 ]]; then
    log "building src/Api (Release)"
    dotnet build -c Release "$ROOT/src/Api/S2CloudMask.Api.csproj" -nologo -v quiet > "$OUT/build.txt" 2>&1 || {
        cat "$OUT/build.txt" >&2
        die "the Release build of src/Api failed (log: $OUT/build.txt)"
    }
fi
[[ -f "$API_DIR/S2CloudMask.Api.dll" ]] || die "no Release build at $API_DIR (run without --no-build)"

# --- body ----------------------------------------------------------------------------------
if [[ ! -f "$BODY" || "$BODY" -ot "$SOURCE" || "$BODY" -ot "$LOADTEST_DIR/make_body.py" ]]; then
    log "making the body: $SOURCE tiled to $SIZE x $SIZE x 10"
    python3 "$LOADTEST_DIR/make_body.py" "$SOURCE" "$BODY" --height "$SIZE" --width "$SIZE" >&2
fi
BODY_BYTES=$(stat -c %s "$BODY")

# --- start the service ---------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE="http://127.0.0.1:$PORT"
log "starting the service on $BASE (log: $OUT/service.log)"
# The built dll directly (not `dotnet run`, whose child would be the real process), from its
# output folder so that appsettings.json is the content root's. Built-in models only.
(
    cd "$API_DIR"
    export ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1
    unset Models__Directories__0 ASPNETCORE_URLS ASPNETCORE_HTTP_PORTS
    exec dotnet S2CloudMask.Api.dll --urls "$BASE"
) > "$OUT/service.log" 2>&1 &
SERVICE_PID=$!

ready=0
for _ in $(seq 1 600); do   # up to 60 s
    kill -0 "$SERVICE_PID" 2>/dev/null || { tail -n 40 "$OUT/service.log" >&2; die "the service exited during start-up"; }
    if curl -fsS -o "$OUT/readyz.json" "$BASE/readyz" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
done
if [[ "$ready" != 1 ]]; then
    curl -sS "$BASE/readyz" >&2 || true
    echo >&2
    tail -n 40 "$OUT/service.log" >&2
    die "/readyz did not answer 200 within 60 s"
fi
log "ready: $(cat "$OUT/readyz.json")"

URL="$BASE/mask?model=$MODEL&format=$FORMAT"
# One request by hand: a clear message if the endpoint refuses the body.
code=$(curl -sS -o "$OUT/first-response" -w '%{http_code} %{content_type}' \
    --data-binary @"$BODY" -H 'Content-Type: application/x-npy' "$URL")
if [[ "${code%% *}" != 200 ]]; then
    head -c 2000 "$OUT/first-response" >&2; echo >&2
    die "POST $URL answered $code"
fi
log "first request: $code, $(stat -c %s "$OUT/first-response") bytes"

WRK_ARGS=(-t "$THREADS" -c "$CONNECTIONS" --timeout "$TIMEOUT" -s "$LOADTEST_DIR/post_npy.lua")
if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
    log "warm-up: wrk ${WRK_ARGS[*]} -d $WARMUP"
    run_wrk "$OUT/warmup.txt" "${WRK_ARGS[@]}" -d "$WARMUP" "$URL" -- "$BODY" || {
        cat "$OUT/warmup.txt" >&2
        die "the warm-up failed"
    }
fi

# --- measured run --------------------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

sampler() {
    local pid=$1 t0 now
    t0=$(date +%s.%N)
    echo "elapsed_s,rss_kib,cpu_s"
    while kill -0 "$pid" 2>/dev/null; do
        now=$(date +%s.%N)
        printf '%.1f,%s,%s\n' "$(awk -v a="$now" -v b="$t0" 'BEGIN { print a - b }')" "$(rss_kib "$pid")" \
            "$(awk -v t="$(cpu_ticks "$pid")" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')"
        sleep 1
    done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_BEFORE=$(cpu_ticks "$SERVICE_PID")
log "load average before: $LOAD_BEFORE"
sampler "$SERVICE_PID" > "$OUT/rss.csv" &
SAMPLER_PID=$!
T0=$(date +%s.%N)
log "measuring: wrk ${WRK_ARGS[*]} -d $DURATION --latency $URL -- $BODY"
wrk_rc=0
run_wrk "$OUT/wrk.txt" "${WRK_ARGS[@]}" -d "$DURATION" --latency "$URL" -- "$BODY" || wrk_rc=$?
T1=$(date +%s.%N)
CPU_AFTER=$(cpu_ticks "$SERVICE_PID")
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$OUT/wrk.txt"
log "load average after: $LOAD_AFTER"

ALIVE=yes
kill -0 "$SERVICE_PID" 2>/dev/null || ALIVE=no
HWM_KIB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVICE_PID/status" 2>/dev/null || echo "")
[[ "$wrk_rc" == 0 ]] || log "wrk exited with status $wrk_rc"

# --- parse ---------------------------------------------------------------------------------
# wrk prints durations as 812.00us, 1.23ms, 2.01s, 1.00m: to milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v == "") { print "nan"; exit }
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        printf "%.1f", n }'
}
pct() { awk -v p="$1%" '$1 == p { print $2; exit }' "$OUT/wrk.txt"; }
P50=$(to_ms "$(pct 50)")
P75=$(to_ms "$(pct 75)")
P90=$(to_ms "$(pct 90)")
P99=$(to_ms "$(pct 99)")
LAT_MAX=$(to_ms "$(awk '$1 == "Latency" { print $4; exit }' "$OUT/wrk.txt")")
RPS=$(awk '$1 == "Requests/sec:" { print $2 }' "$OUT/wrk.txt")
REQUESTS=$(awk '/requests in/ { print $1; exit }' "$OUT/wrk.txt")
NON2XX=$(awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); print $2 }' "$OUT/wrk.txt")
NON2XX=${NON2XX:-0}
SOCKET_ERRORS=$(awk '/Socket errors:/ { s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i + 0; print s }' "$OUT/wrk.txt")
SOCKET_ERRORS=${SOCKET_ERRORS:-0}
LUA_RESPONSES=$(awk '/^lua: responses/ { gsub(/,/, "", $3); print $3 }' "$OUT/wrk.txt")
LUA_NON200=$(awk '/^lua: responses/ { print $5 }' "$OUT/wrk.txt")
LUA_STATUSES=$(awk '/^lua: status / { printf "%s%s %s", sep, $3, $4; sep = ", " }' "$OUT/wrk.txt" | sed 's/://g')
[[ -n "$LUA_NON200" ]] || { log "the Lua summary is missing from wrk's output"; LUA_NON200=nan; }
ERRORS=$(awk -v a="$NON2XX" -v b="$SOCKET_ERRORS" -v c="$LUA_NON200" -v r="$wrk_rc" -v alive="$ALIVE" \
    'BEGIN { e = a + b; if (c == "nan" || r != 0 || alive != "yes") e += 1; else if (c + 0 > e) e = c + 0; print e }')
# wrk's own measured time ("153 requests in 10.10s"); the wall time around wrk also holds its
# start-up (every thread reads the body) and is what the CPU time is divided by.
ELAPSED=$(awk -v ms="$(to_ms "$(awk '/requests in/ { v = $4; sub(/,$/, "", v); print v; exit }' "$OUT/wrk.txt")")" \
    'BEGIN { printf "%.1f", ms / 1000 }')
WALL=$(awk -v a="$T1" -v b="$T0" 'BEGIN { printf "%.1f", a - b }')
BUSY=$(awk -v c0="$CPU_BEFORE" -v c1="$CPU_AFTER" -v h="$CLK_TCK" -v t="$WALL" 'BEGIN { printf "%.2f", (c1 - c0) / h / t }')
MPXS=$(awk -v r="$RPS" -v s="$SIZE" 'BEGIN { printf "%.1f", r * s * s / 1e6 }')

# RSS: start / middle / end / max and the flatness check over the samples of the run.
# Also the least-squares slope of RSS over time (MiB/min) from the second quarter on, the
# samples the flatness check compares: a steady leak shows as a slope. Over the whole run it
# would mostly measure the first seconds, where the heap settles after the warm-up (one run:
# 1,134 MiB down to 616 at 3.5 s and back to 1,165 at 12.7 s gave +194 MiB/min over the run,
# +26 from the second quarter on).
read -r RSS_N RSS_START RSS_MID RSS_END RSS_MAX Q2 Q4 FLAT_PCT FLAT SLOPE < <(
    awk -F, -v tol="$FLAT_TOLERANCE" 'NR > 1 && $2 != "" { n++; t[n] = $1; r[n] = $2 / 1024 }
        END {
            if (n < 4) { print n, "nan nan nan nan nan nan nan unknown nan"; exit }
            q = n / 4
            for (i = 1; i <= n; i++) if (i > q) { k++; st += t[i]; sr += r[i]; stt += t[i] * t[i]; str += t[i] * r[i] }
            den = k * stt - st * st; slope = den > 0 ? (k * str - st * sr) / den * 60 : 0
            max = 0; for (i = 1; i <= n; i++) if (r[i] > max) max = r[i]
            for (i = 1; i <= n; i++) {
                if (i > q && i <= 2 * q) { s2 += r[i]; c2++ }
                if (i > 3 * q) { s4 += r[i]; c4++ }
            }
            m2 = s2 / c2; m4 = s4 / c4; d = (m4 - m2) / m2 * 100
            printf "%d %.0f %.0f %.0f %.0f %.0f %.0f %+.1f %s %+.0f\n", n, r[1], r[int((n + 1) / 2)], r[n], max, m2, m4, d,
                (d <= tol && d >= -tol) ? "yes" : "no", slope
        }' "$OUT/rss.csv")
HWM_MIB=$(awk -v k="$HWM_KIB" 'BEGIN { if (k == "") print "nan"; else printf "%.0f", k / 1024 }')

RESULT=PASS
REASONS=()
[[ "$ERRORS" == 0 ]] || { RESULT=FAIL; REASONS+=("$ERRORS error(s)"); }
[[ "$FLAT" == yes ]] || { RESULT=FAIL; REASONS+=("memory not flat ($FLAT_PCT %)"); }
[[ "$ALIVE" == yes ]] || { RESULT=FAIL; REASONS+=("the service died"); }

SUMMARY=$(cat <<EOF
model $MODEL, $SIZE x $SIZE x 10 float32 .npy ($BODY_BYTES bytes) -> $FORMAT, $CONNECTIONS clients, $DURATION
requests:      $REQUESTS in ${ELAPSED} s = $RPS requests/s ($MPXS Mpx/s)
latency (ms):  p50 $P50, p75 $P75, p90 $P90, p99 $P99, max $LAT_MAX
errors:        $ERRORS (non-2xx/3xx $NON2XX, socket errors $SOCKET_ERRORS, Lua non-200 $LUA_NON200${LUA_STATUSES:+: $LUA_STATUSES}; Lua responses $LUA_RESPONSES)
service RSS:   start $RSS_START MiB, middle $RSS_MID MiB, end $RSS_END MiB, max $RSS_MAX MiB ($RSS_N samples; VmHWM since start $HWM_MIB MiB)
memory flat:   $FLAT (last-quarter mean $Q4 MiB vs second-quarter mean $Q2 MiB: $FLAT_PCT %, tolerance ±$FLAT_TOLERANCE %); trend $SLOPE MiB/min from the second quarter on
service CPU:   $BUSY busy cores of $(nproc) (CPU time / wall time over the run)
load average:  before $LOAD_BEFORE / after $LOAD_AFTER
result:        $RESULT${REASONS:+ (${REASONS[*]})}
EOF
)
echo
echo "$SUMMARY" | tee "$OUT/summary.txt"
echo

# --- BENCHMARKS.md ---------------------------------------------------------------------------
if [[ "$UPDATE" == 1 ]]; then
    CPU_MODEL=$(lscpu | awk -F: '/^Model name/ { gsub(/^[ \t]+/, "", $2); print $2; exit }')
    MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src 2>/dev/null)" ]]; then
        COMMIT="$COMMIT + uncommitted changes in src/"
    fi
    WRK_VERSION=$({ wrk -v 2>&1 || true; } | awk 'NR == 1 { print $2 }')
    SECTION="$OUT/benchmarks-section.md"
    cat > "$SECTION" <<EOF
## HTTP load test

Written by \`bench/loadtest/loadtest.sh\` — rerun it rather than editing by hand. The
Release build of \`src/Api\` (built-in models only, default settings) on 127.0.0.1, loaded by
\`wrk\` $WRK_VERSION (closed loop: each client sends its next request when the previous answer
has arrived, so latency includes the wait in the service's queue; \`wrk2\` is not packaged in
Debian 12). Body: the clear Wright scene tiled to $SIZE x $SIZE x 10 float32
(\`bench/loadtest/make_body.py\`), read once by \`bench/loadtest/post_npy.lua\`. A
$WARMUP warm-up with the same load precedes the measured run.

- Machine: $CPU_MODEL, $(nproc) cores, $MEM; .NET SDK $(dotnet --version); commit $COMMIT
- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Load average before / after: $LOAD_BEFORE / $LOAD_AFTER (shared machine: other builds ran
  beside the service, so absolute figures vary from run to run)

\`\`\`sh
bench/loadtest/loadtest.sh --duration $DURATION
# i.e. wrk -t $THREADS -c $CONNECTIONS -d $DURATION --latency --timeout $TIMEOUT -s bench/loadtest/post_npy.lua \\
#        'http://127.0.0.1:PORT/mask?model=$MODEL&format=$FORMAT' -- body-${SIZE}x${SIZE}x10-f32.npy
\`\`\`

| measure | value |
| --- | ---: |
| requests in ${ELAPSED} s | $REQUESTS |
| requests/s | $RPS |
| Mpx/s (requests/s x $SIZE²) | $MPXS |
| latency p50 | $P50 ms |
| latency p90 | $P90 ms |
| latency p99 | $P99 ms |
| latency max | $LAT_MAX ms |
| errors (non-2xx/3xx, socket errors, non-200 counted by the Lua script) | $ERRORS |
| service RSS start / middle / end / max | $RSS_START / $RSS_MID / $RSS_END / $RSS_MAX MiB |
| memory flat (last-quarter vs second-quarter mean RSS, ±$FLAT_TOLERANCE %) | $FLAT ($FLAT_PCT %) |
| RSS trend from the second quarter on (least squares) | $SLOPE MiB/min |
| service CPU (busy cores of $(nproc)) | $BUSY |
| **result** (no error and memory flat) | **$RESULT** |

RSS is sampled every second from \`/proc/PID/status\` (VmRSS) during the measured run. Raw
output of this run: \`bench/loadtest/results/$STAMP/\` (\`wrk.txt\`, \`rss.csv\`,
\`service.log\`, \`summary.txt\`; not committed).
EOF
    MD="$ROOT/BENCHMARKS.md"
    [[ -f "$MD" ]] || printf '# Benchmarks\n' > "$MD"
    # Replace the section in place (from its heading to the next "## " heading), else append.
    awk -v section="$SECTION" '
        function emit() { while ((getline line < section) > 0) print line; close(section); done = 1 }
        /^## HTTP load test[ \t]*$/ { if (!done) { emit(); print "" }; skip = 1; next }
        skip && /^## / { skip = 0 }
        !skip { print }
        END { if (!done) { print ""; emit() } }
    ' "$MD" > "$MD.tmp"
    # No blank-line pile-up at the end of the file.
    awk '{ lines[NR] = $0 } END { n = NR; while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }' "$MD.tmp" > "$MD"
    rm -f "$MD.tmp"
    log "updated the \"HTTP load test\" section of $MD"
else
    log "BENCHMARKS.md left alone (only a full 60 s run updates it; --update forces it)"
fi
log "raw output: $OUT"

[[ "$RESULT" == PASS ]]
