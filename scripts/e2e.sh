#!/usr/bin/env bash
# Runs the Playwright suite in system Chromium against the release bundle: starts the server on
# a free port (and a second process of it on the same database, a third with every optional
# capability switched off, and a fourth on the development bundle when it is built) with a
# fresh SQLite database (and a real OpenID provider beside it), waits until they are ready, runs
# the tests, stops them.
# Every browser test comes from 127.0.0.1, so the per-address auth rate limit is lifted here
# (the HTTP tests cover it). The cloned-passkey test looks at the `warn` policy's record of a
# clone (the default, `require_reauth`, refuses it: the HTTP tests cover that).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

# The server: by default the test build's (`make e2e` builds it), else E2E_BINARY (`make bench`
# runs the release server). Its HTML hydrates with the release bundle: the same source, the same
# capabilities and `split-routes`, and `erase_components` (`testing` only adds helpers for tests).
source_binary=${E2E_BINARY:-target/debug/server}
hashes=target/release/hash.txt
[ -x "$source_binary" ] || { echo "missing $source_binary: run make e2e (or E2E_BINARY=...)" >&2; exit 1; }
[ -f "$hashes" ] || { echo "missing $hashes: run scripts/build-site.sh first" >&2; exit 1; }

# A free port on the loopback address.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
# A server left over from an earlier run would answer in place of this one.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is already in use" >&2; exit 1
fi

workdir=$(mktemp -d)
log="$workdir/server.log"
# E2E_DATABASE=postgres runs the suite on a fresh schema of the server TEST_POSTGRES_URL names.
schema=""
case "${E2E_DATABASE:-sqlite}" in
  sqlite) database_url="sqlite://$workdir/e2e.db" ;;
  postgres)
    : "${TEST_POSTGRES_URL:?E2E_DATABASE=postgres needs TEST_POSTGRES_URL}"
    schema="e2e_$(date +%s)_$$"
    psql -q "$TEST_POSTGRES_URL" -c "CREATE SCHEMA $schema"
    sep='?'; case "$TEST_POSTGRES_URL" in *\?*) sep='&' ;; esac
    database_url="$TEST_POSTGRES_URL${sep}options[search_path]=$schema"
    ;;
  *) echo "E2E_DATABASE must be sqlite or postgres" >&2; exit 2 ;;
esac
echo "==> browser suite on ${E2E_DATABASE:-sqlite}"
# The suite's status is the script's: a stopped process answering 143 to `wait` must not
# replace it (under `set -e` it would).
cleanup() {
  local status=$?
  set +e
  if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  if [ -n "${pid2:-}" ]; then kill "$pid2" 2>/dev/null; wait "$pid2" 2>/dev/null; fi
  if [ -n "${pid3:-}" ]; then kill "$pid3" 2>/dev/null; wait "$pid3" 2>/dev/null; fi
  if [ -n "${pid4:-}" ]; then kill "$pid4" 2>/dev/null; wait "$pid4" 2>/dev/null; fi
  if [ -n "${op_pid:-}" ]; then kill "$op_pid" 2>/dev/null; wait "$op_pid" 2>/dev/null; fi
  if [ -n "$schema" ]; then
    psql -q "$TEST_POSTGRES_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
  fi
  rm -rf "$workdir"
  exit "$status"
}
trap cleanup EXIT

# The server links the bundle's hashed names from the hash.txt beside it, so it runs from a copy
# beside the site's hashes: left in target/debug, they would make `cargo leptos watch`'s server
# link names its own builds never write.
mkdir "$workdir/bin"
binary=$workdir/bin/server
cp "$source_binary" "$binary"
cp "$hashes" "$workdir/bin/hash.txt"

# A real OpenID provider (oidc-provider) on another loopback site (127.0.0.1, while the app is
# on localhost), as `oidc` (answers in the query) and `oidcpost` (answers by form_post, a
# cross-site POST).
op_port=$(free_port)
PORT="$op_port" RP_REDIRECTS="http://localhost:$port/auth/oidc/callback,http://localhost:$port/auth/oidcpost/callback" \
  node end2end/oidc/provider.mjs >"$workdir/provider.log" 2>&1 &
op_pid=$!
op_env=(SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK=true)
for name in OIDC OIDCPOST; do
  op_env+=("SIGRA_OAUTH_${name}_KIND=oidc" "SIGRA_OAUTH_${name}_ISSUER=http://127.0.0.1:$op_port"
    "SIGRA_OAUTH_${name}_CLIENT_ID=test-rp" "SIGRA_OAUTH_${name}_CLIENT_SECRET=test-rp-secret-0123456789abcdef")
done
op_env+=(SIGRA_OAUTH_OIDC_DISPLAY_NAME="Test OP" SIGRA_OAUTH_OIDCPOST_DISPLAY_NAME="Test OP (form post)"
  SIGRA_OAUTH_OIDCPOST_RESPONSE_MODE=form_post)
for _ in $(seq 1 50); do
  grep -q '^ready' "$workdir/provider.log" 2>/dev/null && break
  sleep 0.2
done
grep -q '^ready' "$workdir/provider.log" || { echo "the OpenID provider never started" >&2; cat "$workdir/provider.log" >&2; exit 1; }

secret=$("$binary" generate-secret)
# Starts `$1 serve` with the site in $2 on port $3, addressed as localhost:$4, on the suite's
# database and secret, its output in $5, with the settings (NAME=value) after those; its pid in
# $served.
serve() {
  local binary=$1 site=$2 port=$3 base_port=$4 log=$5
  shift 5
  env LEPTOS_OUTPUT_NAME=sigra LEPTOS_SITE_ROOT="$site" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    DATABASE_URL="$database_url" SIGRA_BASE_URL="http://localhost:$base_port" \
    SIGRA_SECRET_KEY="$secret" RUST_LOG="${RUST_LOG:-info}" SIGRA_RATE_LIMIT_AUTH_LIMIT=100000 \
    "$@" "$binary" serve >"$log" 2>&1 &
  served=$!
}
serve "$binary" target/site "$port" "$port" "$log" SIGRA_PASSKEYS_SIGN_COUNT_POLICY=warn "${op_env[@]}"
pid=$served

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "the server exited:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || { echo "the server never became ready" >&2; cat "$log" >&2; exit 1; }

# Waits until the server on port $1 answers /ready; shows its log ($2) if it never does.
wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the server on port $1 never became ready:" >&2
  cat "$2" >&2
  exit 1
}

# A second process on the same database and secret, as a second server behind a load balancer:
# the live-auth test logs out on it while a page follows its session on the first. It runs no
# jobs, so every mail is delivered by the first.
port2=$(free_port)
serve "$binary" target/site "$port2" "$port" "$workdir/server2.log" SIGRA_JOBS_RUN_IN_PROCESS=false
pid2=$served
wait_ready "$port2" "$workdir/server2.log"

# The smallest configuration, every optional capability switched off, as a third process on
# the same database with its own address: the capability test looks at what is gone. By
# default it is this build with its switches off; E2E_SMALLEST_BINARY and E2E_SMALLEST_SITE run
# a build without the default features instead (which refuses the providers' settings).
port3=$(free_port)
capabilities_off=()
for capability in MAGIC_LINKS PASSKEYS OAUTH SECOND_FACTORS ORGANIZATIONS ADMIN API_TOKENS JWT; do
  capabilities_off+=("SIGRA_CAPABILITIES_$capability=false")
done
smallest_binary=${E2E_SMALLEST_BINARY:-$binary}
[ -x "$smallest_binary" ] || { echo "missing $smallest_binary (E2E_SMALLEST_BINARY)" >&2; exit 1; }
smallest_env=("${op_env[@]}")
[ -z "${E2E_SMALLEST_BINARY:-}" ] || smallest_env=()
serve "$smallest_binary" "${E2E_SMALLEST_SITE:-target/site}" "$port3" "$port3" "$workdir/server3.log" \
  SIGRA_JOBS_RUN_IN_PROCESS=false "${smallest_env[@]}" "${capabilities_off[@]}"
pid3=$served
wait_ready "$port3" "$workdir/server3.log"

# The development bundle (`cargo leptos watch`'s: one module, no split points), when built
# (scripts/build-dev-bundle.sh, part of `make e2e`), on a fourth process of this build: through
# a second name for it without hash.txt beside it (a hard link, no copy), so it links the plain
# names cargo-leptos serves.
dev_site=${E2E_DEV_SITE:-target/dev-site}
dev_env=()
if [ -f "$dev_site/pkg/sigra.wasm" ]; then
  mkdir "$workdir/devbin"
  ln "$binary" "$workdir/devbin/server"
  port4=$(free_port)
  serve "$workdir/devbin/server" "$dev_site" "$port4" "$port4" "$workdir/server4.log" SIGRA_JOBS_RUN_IN_PROCESS=false
  pid4=$served
  wait_ready "$port4" "$workdir/server4.log"
  dev_env=(E2E_DEV_URL="http://localhost:$port4")
fi

set +e
# The admin tests grant the admin area with the operator's command, on the same database.
env "${dev_env[@]}" E2E_BASE_URL="http://localhost:$port" E2E_SECOND_URL="http://localhost:$port2" E2E_SMALLEST_URL="http://localhost:$port3" E2E_DATABASE_URL="$database_url" E2E_SERVER_BINARY="$binary" \
  playwright test -c end2end "$@" 2>&1 | tee "$workdir/playwright.log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  # CI shows only the end of the output, so the failures are repeated after the server log.
  echo "--- server log (last 60 lines) ---" >&2
  tail -n 60 "$log" >&2
  echo "--- failed browser tests ---" >&2
  sed -n '/^  [0-9]*) /,$p' "$workdir/playwright.log" | head -n 150 >&2
fi
exit "$status"
