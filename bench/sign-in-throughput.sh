#!/usr/bin/env bash
# Sign-in benchmark: the Argon2id cost of one password check (criterion, core 0),
# then authorization-code exchanges and refresh-token rotations per second at
# /token, each request with its own single-use code or refresh token from a
# prepared batch, on SQLite and PostgreSQL (server on core 0, load on core 1).
# Prints Markdown.
#
#   PORTCULLIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
#     bash bench/sign-in-throughput.sh          # BATCH=4000 CONNECTIONS=16
set -euo pipefail
cd "$(dirname "$0")/.."

taskset -c 0 cargo bench -p portcullis-core --bench password >&2
mean_ms() { # criterion directory -> mean in ms
  python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['mean']['point_estimate'] / 1e6))" \
    "target/criterion/argon2id/$1/new/estimates.json"
}
echo "| Argon2id (m=19 MiB, t=2, p=1), one core | mean |"
echo "| --- | ---: |"
for case in "verify (right password)" "verify_nothing (unknown user)" "create (sign-up, password change)"; do
  dir=$(tr ' ()-' '_' <<<"$case" | sed 's/__*/_/g; s/_$//')
  [ -d "target/criterion/argon2id/$dir" ] || dir=$(ls target/criterion/argon2id | grep -i "^${case%% *}" | head -1)
  echo "| $case | $(mean_ms "$dir") ms |"
done
echo

cargo bench -p portcullis --bench sign_in_load --no-run >&2
taskset -c 1 cargo bench -p portcullis --bench sign_in_load
