#!/usr/bin/env bash
# Token endpoint benchmark: client_credentials tokens/s and p50/p99 latency at
# 16 and 64 connections for RS256, ES256 and EdDSA, with the server pinned to
# core 0 and wrk to core 1; then the single-core signing ceiling (criterion,
# core 0) and the ratio tokens/s / signatures/s. Prints Markdown.
#
#   bash bench/token-throughput.sh            # DURATION=10s
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release -p portcullis >&2
bin=target/release/portcullis

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Signing ceiling first, so the table can show the ratio.
taskset -c 0 cargo bench -p portcullis-jose --bench sign -- sign_jwt >&2
signs_per_s() { # alg -> signatures/s from criterion's mean
  python3 -c "import json,sys; print(round(1e9/json.load(open(sys.argv[1]))['mean']['point_estimate']))" \
    "target/criterion/sign_jwt/$1/new/estimates.json"
}

cat > "$work/token.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
wrk.body = "grant_type=client_credentials&scope=read"
LUA

echo "| alg | connections | tokens/s | p50 | p99 | signatures/s (criterion, 1 core) | tokens/s / signatures/s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for alg in RS256 ES256 EdDSA; do
  export PORTCULLIS_DATA_DIR="$work/$alg" PORTCULLIS_SIGNING_ALG=$alg PORTCULLIS_LOG=warn
  export PORTCULLIS_LISTEN=127.0.0.1:0
  taskset -c 0 "$bin" serve > "$work/$alg.out" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q listening "$work/$alg.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^portcullis listening on //p' "$work/$alg.out")
  created=$("$bin" client create --name bench --grant-type client_credentials --scope "read write" --json)
  id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$created")
  secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$created")
  export BASIC; BASIC=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
  token=$(curl -sf -u "$id:$secret" -d grant_type=client_credentials "$url/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  header=$(cut -d. -f1 <<<"$token" | tr '_-' '/+'); while [ $(( ${#header} % 4 )) -ne 0 ]; do header="$header="; done
  base64 -d <<<"$header" | grep -q "\"alg\":\"$alg\"" || { echo "token is not $alg" >&2; exit 1; }
  ceiling=$(signs_per_s "$alg")
  for connections in 16 64; do
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"$DURATION" --latency -s "$work/token.lua" "$url/token")
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then echo "$out" >&2; echo "errors under load" >&2; exit 1; fi
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
    echo "| $alg | $connections | $rps | $p50 | $p99 | $ceiling | $ratio |"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
