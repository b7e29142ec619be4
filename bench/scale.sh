#!/usr/bin/env bash
# Scale benchmark: how the server behaves as the number of clients and tenants grows. For each
# case it loads a fresh store with `castellan load` (straight through the store adapter), starts
# a release server on it and measures:
#   start-up      process start to /health/ready answering 200
#   token         client_credentials with wrk (c=64) over a working set of up to 10,000 clients
#                 spread over the whole store (after a warm-up run, 3 s, or 30 s with many
#                 tenants so that each tenant's first load is done): requests/s and p99
#   first token   the first token request after a write (median / worst of 40): after renaming
#                 the client, and a newly registered client's first request
#   creates       client registrations through the admin API, generated secrets (wrk, c=8)
#   RSS           resident memory after the runs (and its peak)
#
#   bench/scale.sh                                   # all cases on SQLite
#   SIZES="10 100000" TENANTS=0 bench/scale.sh       # some cases (TENANTS=0: no many-tenant case)
#   STORE=postgres PG_URL=postgres://postgres@127.0.0.1:5432/postgres bench/scale.sh
#                                                    # PostgreSQL: a fresh database per case
#   DURATION=30 bench/scale.sh                       # longer wrk runs (default 10 s)
#   KEEP=1 bench/scale.sh                            # keep each case's data dir (printed) and
#                                                    # PostgreSQL database
#   SIZES= LOADED_DIR=/tmp/tmp.x bench/scale.sh      # measure a kept many-tenant SQLite case again
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES-"10 10000 100000 1000000"}
TENANTS=${TENANTS:-10000}
DURATION=${DURATION:-10}
STORE=${STORE:-sqlite}
WORKSET=${WORKSET_SIZE:-10000}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "install wrk (Debian package wrk)" >&2; exit 1; fi
fi
if [ "$STORE" = postgres ] && [ -z "${PG_URL:-}" ]; then
  echo "STORE=postgres needs PG_URL, the URL of a PostgreSQL server (a database is created per case)" >&2
  exit 1
fi
cargo build --release -q
bin=target/release/castellan
export CASTELLAN_MASTER_KEY="scale benchmark master key 0123456789abcdef"
export CASTELLAN_BOOTSTRAP_CLIENT_SECRET="scale-benchmark-admin-secret-0123456789"
export CASTELLAN_LOG=warn
secret_template='scale-secret-{n}-0123456789abcdef'
secret_of() { echo "scale-secret-$1-0123456789abcdef"; }

printf '%-22s %8s %9s %11s %9s %13s %13s %9s %10s\n' \
  case load_s start_s "token/s" p99 "first(rename)" "first(new)" "creates/s" "RSS(peak)"

run_case() { # name tenants clients
  local name=$1 tenants=$2 clients=$3
  local dir port base store_args=() pid
  dir=${LOADED_DIR:-$(mktemp -d)}
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  if [ "$STORE" = postgres ]; then
    local db="castellan_scale_$$_${name//[^a-z0-9]/_}"
    PGOPTIONS='-c client_min_messages=warning' psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    store_args=(--database-url "${PG_URL%/*}/$db")
  fi
  # One tenant: an ES256 server of its own. Many tenants: each one's `default` server, created
  # signing with ES256 (each still gets its RSA ID-token key).
  local server=scale
  local load_args=(--clients "$clients" --prefix c --secret "$secret_template")
  if [ "$tenants" -gt 0 ]; then
    server=default
    load_args+=(--tenants "$tenants" --tenant-prefix t --tenant-key-type ecdsa)
  else
    load_args+=(--server scale --create-server ecdsa)
  fi
  local t0 t1 load_s start_s
  if [ -n "${LOADED_DIR:-}" ]; then
    load_s=-
  else
    t0=$(date +%s.%N)
    "$bin" load --data-dir "$dir" "${store_args[@]}" "${load_args[@]}" >"$dir/load.log" 2>&1 \
      || { cat "$dir/load.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    load_s=$(python3 -c "print(f'{$t1-$t0:.1f}')")
  fi

  t0=$(date +%s.%N)
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir" "${store_args[@]}" >"$dir/server.log" 2>&1 &
  pid=$!
  until curl -sf "$base/health/ready" >/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    sleep 0.01
  done
  t1=$(date +%s.%N)
  start_s=$(python3 -c "print(f'{$t1-$t0:.2f}')")

  # The working set: up to $WORKSET clients spread evenly over everything loaded.
  python3 - "$dir/workset" "$tenants" "$clients" "$WORKSET" "$server" <<'PY'
import base64, sys
out, tenants, clients, size, server = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with open(out, "w") as f:
    if tenants == 0:
        picks = [("default", i * clients // min(size, clients)) for i in range(min(size, clients))]
    else:
        total = tenants * clients
        picks = [(f"t{k // clients}", k % clients) for k in (i * total // min(size, total) for i in range(min(size, total)))]
    for tenant, n in picks:
        basic = base64.b64encode(f"c{n}:scale-secret-{n}-0123456789abcdef".encode()).decode()
        f.write(f"/{tenant}/{server}/oauth2/token {basic}\n")
PY
  # Warm-up: long enough that every tenant of the working set has been loaded once.
  local warmup=3
  [ "$tenants" -gt 0 ] && warmup=30
  WORKSET="$dir/workset" wrk -t2 -c64 -d${warmup}s -s bench/scale-token.lua "$base" >/dev/null
  local out rps p99 errs
  out=$(WORKSET="$dir/workset" wrk -t2 -c64 -d"${DURATION}s" --latency -s bench/scale-token.lua "$base")
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  [ -z "$errs" ] || { echo "$name: $errs token requests failed" >&2; exit 1; }

  # Many tenants: the admin client is the bootstrap tenant's, so only registration there is timed.
  local first
  if [ "$tenants" -eq 0 ]; then
    first=$(python3 bench/first_token.py "$base" default "$server" c0 "$(secret_of 0)" "$CASTELLAN_BOOTSTRAP_CLIENT_SECRET")
  else
    first=$(python3 bench/first_token.py "$base" default default - - "$CASTELLAN_BOOTSTRAP_CLIENT_SECRET")
  fi
  local creates=-
  if [ "$tenants" -eq 0 ]; then
    out=$(ADMIN=$(printf 'bootstrap:%s' "$CASTELLAN_BOOTSTRAP_CLIENT_SECRET" | base64 -w0) \
      wrk -t2 -c8 -d"${DURATION}s" -s bench/scale-create.lua "$base")
    creates=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  fi
  local rss peak
  rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$pid/status)
  peak=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$pid/status)
  kill $pid; wait $pid 2>/dev/null || true
  read -r fa fa_max fb fb_max <<<"$first"
  printf '%-22s %8s %9s %11s %9s %13s %13s %9s %10s\n' "$name" "$load_s" "$start_s" "$rps" "$p99" \
    "${fa}/${fa_max}ms" "${fb}/${fb_max}ms" "$creates" "${rss}M(${peak}M)"
  if [ "$STORE" = postgres ] && [ -z "${KEEP:-}" ]; then
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS castellan_scale_$$_${name//[^a-z0-9]/_}" >/dev/null
  fi
  if [ -n "${KEEP:-}${LOADED_DIR:-}" ]; then echo "  (kept $dir)"; else rm -rf "$dir"; fi
}

for n in $SIZES; do run_case "clients=$n" 0 "$n"; done
if [ "$TENANTS" -gt 0 ]; then run_case "tenants=$TENANTS x 10" "$TENANTS" 10; fi
