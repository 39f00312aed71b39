#!/usr/bin/env bash
# Guard benchmark: requests/s of the courses API's protected route against the
# same request to the same work unprotected, in one run, with a reused token and with a stream of
# distinct tokens (every one a cache miss), for RS256 and ES256.
# Server pinned to core 0, wrk to core 1. The unprotected and reused-token
# runs alternate ROUNDS times and the median of each is reported, so a drift of
# the machine during the run does not masquerade as guard cost.
# Prints a Markdown table.
#
#   bash bench/guard-throughput.sh            # DURATION=5s ROUNDS=5 CONNECTIONS=64 DISTINCT=20000
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-64}
DISTINCT=${DISTINCT:-20000}
CACHE=${CACHE:-1024}

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release -p courses-api --bin courses-api-bench >&2

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/reused.lua" <<'LUA'
local f = io.open(os.getenv("TOKEN_FILE")); local token = f:read("*l"); f:close()
wrk.headers["Authorization"] = "Bearer " .. token
LUA
cat > "$work/distinct.lua" <<'LUA'
local tokens, i = {}, 0
for line in io.lines(os.getenv("TOKEN_FILE")) do tokens[#tokens + 1] = line end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { Authorization = "Bearer " .. tokens[i] })
end
LUA

run() { # url script token_file -> "rps p50 p99"
  local out
  out=$(TOKEN_FILE="$3" taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency ${2:+-s "$2"} "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx responses:" >&2; echo "$out" >&2; exit 1; fi
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}

echo "| alg | route | tokens | requests/s | p50 | p99 | vs unprotected |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
for alg in RS256 ES256; do
  target/release/courses-api-bench "$alg" "$DISTINCT" "$CACHE" "$work/$alg" > "$work/$alg.out" &
  server_pid=$!
  for _ in $(seq 1 600); do grep -q listening "$work/$alg.out" 2>/dev/null && break; sleep 0.1; done
  taskset -p -c 0 "$server_pid" >/dev/null
  url=$(sed -n 's/^courses-api-bench listening on //p' "$work/$alg.out")
  stats0=$(curl -s "$url/bench/stats")
  : > "$work/base.runs"; : > "$work/hot.runs"
  for _ in $(seq 1 "$ROUNDS"); do
    # The same request, Authorization header included, to the same handler without the guard.
    run "$url/bench/unprotected" "$work/reused.lua" "$work/$alg/reused.token" >> "$work/base.runs"
    run "$url/api/v1/me/courses" "$work/reused.lua" "$work/$alg/reused.token" >> "$work/hot.runs"
  done
  median() { sort -n -k1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
  read -r base_rps base_p50 base_p99 < <(median "$work/base.runs")
  read -r hot_rps hot_p50 hot_p99 < <(median "$work/hot.runs")
  echo "$alg rounds unprotected: $(cut -d' ' -f1 "$work/base.runs" | tr '\n' ' ')" >&2
  echo "$alg rounds reused:      $(cut -d' ' -f1 "$work/hot.runs" | tr '\n' ' ')" >&2
  read -r cold_rps cold_p50 cold_p99 < <(run "$url/api/v1/me/courses" "$work/distinct.lua" "$work/$alg/distinct.tokens")
  stats1=$(curl -s "$url/bench/stats")
  pct() { awk -v a="$1" -v b="$base_rps" 'BEGIN { printf "%.1f%%", 100 * a / b }'; }
  echo "| $alg | unprotected (median of $ROUNDS) | - | $base_rps | $base_p50 | $base_p99 | 100% |"
  echo "| $alg | guarded (median of $ROUNDS) | one reused | $hot_rps | $hot_p50 | $hot_p99 | $(pct "$hot_rps") |"
  echo "| $alg | guarded | $DISTINCT distinct, cycled | $cold_rps | $cold_p50 | $cold_p99 | $(pct "$cold_rps") |"
  echo "$alg stats before: $stats0, after: $stats1" >&2
  awk -v b="$base_rps" -v h="$hot_rps" -v c="$cold_rps" -v alg="$alg" 'BEGIN {
    printf "%s reused token: %.2f us per request more than unprotected\n", alg, 1e6/h - 1e6/b
    printf "%s cold path: %.1f us per request more than unprotected (= %.0f verifications/s of overhead)\n", alg, 1e6/c - 1e6/b, 1/(1/c - 1/b) }' >&2
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
