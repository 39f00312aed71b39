#!/usr/bin/env bash
# Operations benchmark, on SQLite and PostgreSQL: client_credentials tokens/s
# with 10 registered clients, then with 1,000,000 (the client cache off, so
# every request looks its client up); introspection and revocation requests/s.
# Server on core 0, wrk on core 1; each measurement follows a 5 s warm-up.
# Prints Markdown.
#
#   PORTCULLIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
#     bash bench/operations-throughput.sh       # DURATION=10s CONNECTIONS=16
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
BULK=${BULK:-1000000}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release -p portcullis >&2
bin=$PWD/target/release/portcullis

work=$(mktemp -d)
server_pid=""
pg_db=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$pg_db" ] && psql -q "$PORTCULLIS_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/token.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
wrk.body = "grant_type=client_credentials&scope=read"
LUA
cat > "$work/introspect.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
wrk.body = "token=" .. os.getenv("TOKEN")
LUA
# Each revocation revokes another token, read from a prepared file.
cat > "$work/revoke.lua" <<'LUA'
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
request = function()
  i = i % #tokens + 1
  return wrk.format(nil, nil, nil, "token=" .. tokens[i])
end
LUA

load() { # script url -> "rps p50 p99"
  local out
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/$1.lua" "$2")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then echo "$out" >&2; echo "errors under load" >&2; exit 1; fi
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}
warm() { # script url: a short run whose numbers are dropped (caches, pool, pages)
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d5s -s "$work/$1.lua" "$2" >/dev/null
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
client() { # name -> "id secret"
  local created; created=$("$bin" client create --name "$1" --grant-type client_credentials --scope "read" --json)
  echo "$(json client_id <<<"$created") $(json client_secret <<<"$created")"
}
bulk_clients() { # backend -> inserts $BULK clients straight into the database
  if [ "$1" = SQLite ]; then
    python3 - "$PORTCULLIS_DATA_DIR/portcullis.db" "$BULK" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = ((f"bulk-{i:07d}", "bulk", hashlib.sha256(str(i).encode()).digest(), "client_credentials", "read", "", 0, "", "")
        for i in range(int(sys.argv[2])))
db.executemany("INSERT INTO clients (id, name, secret_hash, grant_types, scopes, audiences, created_at, "
               "redirect_uris, post_logout_redirect_uris) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
db.commit()
db.execute("ANALYZE")
PY
  else
    psql -q "$PORTCULLIS_DATABASE_URL" -c "INSERT INTO clients (id, name, secret_hash, grant_types, scopes, audiences,
      created_at, redirect_uris, post_logout_redirect_uris)
      SELECT 'bulk-' || lpad(i::text, 7, '0'), 'bulk', sha256(i::text::bytea), 'client_credentials', 'read', '', 0, '', ''
      FROM generate_series(0, $BULK - 1) AS i; ANALYZE clients;" >/dev/null
  fi
}

echo "| backend | what | requests/s | p50 | p99 |"
echo "| --- | --- | ---: | ---: | ---: |"
backends=(SQLite)
[ -n "${PORTCULLIS_TEST_DATABASE_URL:-}" ] && backends+=(PostgreSQL)
for backend in "${backends[@]}"; do
  export PORTCULLIS_DATA_DIR="$work/$backend" PORTCULLIS_LOG=warn PORTCULLIS_LISTEN=127.0.0.1:0
  export PORTCULLIS_SIGNING_ALG=ES256 PORTCULLIS_CLIENT_CACHE_TTL=0
  mkdir -p "$PORTCULLIS_DATA_DIR"
  if [ "$backend" = PostgreSQL ]; then
    pg_db="portcullis_bench_$$"
    psql -q "$PORTCULLIS_TEST_DATABASE_URL" -c "CREATE DATABASE $pg_db" >/dev/null
    export PORTCULLIS_DATABASE_URL="${PORTCULLIS_TEST_DATABASE_URL%/*}/$pg_db"
  else
    unset PORTCULLIS_DATABASE_URL
  fi
  taskset -c 0 "$bin" serve > "$work/$backend.out" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q listening "$work/$backend.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^portcullis listening on //p' "$work/$backend.out")

  read -r id secret <<<"$(client bench)"
  for n in $(seq 2 10); do client "other-$n" >/dev/null; done
  export BASIC; BASIC=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
  warm token "$url/token"
  read -r rps p50 p99 <<<"$(load token "$url/token")"
  echo "| $backend | client_credentials, 10 clients (no client cache) | $rps | $p50 | $p99 |"
  few=$rps
  bulk_clients "$backend"
  warm token "$url/token"
  read -r rps p50 p99 <<<"$(load token "$url/token")"
  change=$(awk -v a="$rps" -v b="$few" 'BEGIN { printf "%+.1f %%", (a - b) / b * 100 }')
  echo "| $backend | client_credentials, $((BULK + 10)) clients (no client cache; $change) | $rps | $p50 | $p99 |"

  read -r rs rs_secret <<<"$(client resource-server)"
  BASIC=$(printf '%s:%s' "$rs" "$rs_secret" | base64 -w0)
  export TOKEN; TOKEN=$(curl -sf -u "$id:$secret" -d grant_type=client_credentials "$url/token" | json access_token)
  warm introspect "$url/introspect"
  read -r rps p50 p99 <<<"$(load introspect "$url/introspect")"
  echo "| $backend | introspection of an access token (active) | $rps | $p50 | $p99 |"

  export TOKENS="$work/$backend.tokens"
  for _ in $(seq 1 20000); do
    curl -sf -u "$id:$secret" -d grant_type=client_credentials "$url/token"; echo
  done | json_lines=1 python3 -c 'import json,sys
for line in sys.stdin:
    if line.strip(): print(json.loads(line)["access_token"])' > "$TOKENS"
  BASIC=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
  read -r rps p50 p99 <<<"$(load revoke "$url/revoke")"
  echo "| $backend | revocation of access tokens (each a new deny-list row, then repeats) | $rps | $p50 | $p99 |"

  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
