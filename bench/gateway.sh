#!/usr/bin/env bash
# Gateway authorizer benchmark: a release server with one service whose one API is its own
# GET /health/live behind a policy of three validators (scopes, header, identity-context), an nginx
# gateway running its downloaded package with Castellan as the upstream, and wrk at each
# concurrency against, side by side (the health floor also with the authorizer's request headers,
# which shows what reading a 1 KiB request costs before any decision):
# GET /health/live (the floor), the authorizer endpoint directly, and a request through nginx.
# Prints requests/s and latency percentiles, and the authorizer's share of the health floor.
#   bench/gateway.sh                   # 10 s per run, concurrency 64
#   DURATION=30 CONCURRENCY="8 64" bench/gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-"64"}

need() { command -v "$1" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq "$2" >/dev/null; } || { echo "install $2" >&2; exit 1; }; }
need wrk wrk
need nginx nginx
cargo build --release -q

dir=$(mktemp -d)
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free); gw=$(free)
base="http://127.0.0.1:$port"
secret="bench-bootstrap-secret-$(date +%s%N)"
CASTELLAN_BOOTSTRAP_CLIENT_SECRET="$secret" CASTELLAN_LOG=warn \
  target/release/castellan serve --listen "127.0.0.1:$port" --data-dir "$dir" >"$dir/server.log" 2>&1 &
pid=$!
npid=
trap 'kill $pid 2>/dev/null; [ -n "$npid" ] && kill $npid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.1; done

api="$base/api/admin/default"
admin() { curl -sf -u "bootstrap:$secret" -H 'Content-Type: application/json' "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

admin -d '{"name": "items.read", "authorization_server_id": "default"}' "$api/scopes" >/dev/null
admin -d '{"id": "three", "policy_name": "Three validators", "validators": [
  {"name": "scopes", "conf": {"scopes": ["items.read"]}},
  {"name": "header", "conf": {"fields": [{"field": "x-team", "comparator": "equals", "value": "ops"}]}},
  {"name": "identity-context", "conf": {"fields": [{"field": "client_id", "comparator": "equals", "value": "bench"}]}}]}' \
  "$api/policies" >/dev/null
admin -d '{"id": "nginx", "name": "Bench nginx", "server_id": "default", "type": "nginx"}' "$api/gateways" >/dev/null
admin -d '{"id": "items", "name": "Items", "authorization_server_id": "default", "gateway_id": "nginx"}' "$api/services" >/dev/null
admin -d '{"service_id": "items", "method": "GET", "path": "/health/live", "policy_id": "three"}' "$api/apis" >/dev/null
c=$(admin -d '{"client_id": "bench", "authorization_server_id": "default", "grant_types": ["client_credentials"], "scopes": ["items.read"]}' "$api/clients")
cs=$(echo "$c" | json "['client_secret']")
TOKEN=$(curl -sf -u "bench:$cs" -d grant_type=client_credentials -d scope=items.read "$base/default/default/oauth2/token" | json "['access_token']")
g=$(admin "$api/gateways/nginx")
GATEWAY=$(printf '%s:%s' "$(echo "$g" | json "['client']['client_id']")" "$(echo "$g" | json "['client']['client_secret']")" | base64 -w0)
export TOKEN GATEWAY

# The package, unedited but for the upstream (Castellan itself) and the port.
curl -sf -u "bootstrap:$secret" "$api/gateways/nginx/package" | tar xz -C "$dir"
conf="$dir/castellan-gateway-nginx/nginx.conf"
sed -i "s/server 127.0.0.1:9000;/server 127.0.0.1:$port;/; s/listen 8080;/listen 127.0.0.1:$gw;/" "$conf"
nginx -p "$dir/castellan-gateway-nginx" -c nginx.conf -e "$dir/nginx.err" >/dev/null 2>&1 &
npid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$gw/" && break; sleep 0.1; done
test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'X-Team: ops' "http://127.0.0.1:$gw/health/live")" = 200 \
  || { echo "the gateway does not let the bench token through" >&2; cat "$dir/nginx.err" >&2; exit 1; }

printf '%-22s %5s %12s %9s %9s %9s %8s\n' run conc "req/s" p50 p90 p99 errors
declare -A RESULT P99
run() { # name concurrency url script
  local out rps p50 p90 p99 errs
  out=$(wrk -t"${WRK_THREADS:-2}" -c"$2" -d"${DURATION}s" --latency -s "$4" "$3")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p90=$(echo "$out" | awk '$1=="90%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $5} /Socket errors/ {print "sock"}' | paste -sd' ')
  printf '%-22s %5s %12s %9s %9s %9s %8s\n' "$1" "$2" "$rps" "$p50" "$p90" "$p99" "${errs:-0}"
  RESULT["$1/$2"]=$rps
  P99["$1/$2"]=$p99
}
for c in $CONCURRENCY; do
  run "health-live" "$c" "$base/health/live" bench/plain.lua
  run "health+auth-headers" "$c" "$base/health/live" bench/authorize.lua
  run "authorizer" "$c" "$base/api/gateway/default/nginx/authorize" bench/authorize.lua
  run "through-nginx" "$c" "http://127.0.0.1:$gw/health/live" bench/bearer.lua
done

echo
last=${CONCURRENCY##* }
python3 -c "print(f'authorizer / health floor at c=$last: {float(\"${RESULT[authorizer/$last]}\")/float(\"${RESULT[health-live/$last]}\"):.2f} (target 0.60); authorizer p99 ${P99[authorizer/$last]} (target < 5 ms)')"
