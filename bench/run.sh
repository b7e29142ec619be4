#!/usr/bin/env bash
# Token-service benchmark: builds a release server, registers an ES256 and an RS256 server with one
# client each, and drives client_credentials (and introspection) with wrk at several concurrencies;
# then consent grants through the privacy API (one signed ledger event each) on the SQLite store.
# Prints requests/s and latency percentiles per run, and ratios against the targets.
#   bench/run.sh                 # 10 s per run
#   DURATION=30 bench/run.sh     # longer runs
#   CONCURRENCY="64" bench/run.sh
#   WRK_THREADS=1 bench/run.sh  # leave more CPU to the server (same figures on 2 cores: it is not starved)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-"8 32 64"}

source bench/server.sh bench

printf '%-22s %5s %12s %9s %9s %9s %8s\n' run conc "req/s" p50 p90 p99 errors
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
}
declare -A RESULT
for kind in ecdsa rsa; do
  for c in $CONCURRENCY; do
    BASIC=${BASIC[$kind]} run "token-$kind" "$c" "$base/default/bench-$kind/oauth2/token" bench/token.lua
  done
done
token=$(curl -sf -H "Authorization: Basic ${BASIC[ecdsa]}" -d grant_type=client_credentials "$base/default/bench-ecdsa/oauth2/token" | json "['access_token']")
for c in $CONCURRENCY; do
  BASIC=${BASIC[ecdsa]} TOKEN=$token run "introspect-ecdsa" "$c" "$base/default/bench-ecdsa/oauth2/introspect" bench/introspect.lua
done

admin -d '{"id": "bench", "name": "Bench", "update_existing_grants": "keepCurrent", "can_be_withdrawn": true}' \
  "$base/api/admin/default/consents" >/dev/null
boot=$(printf '%s:%s' bootstrap "$secret" | base64 -w0)
for c in $CONCURRENCY; do
  BASIC=$boot run "consent-grant" "$c" "$base/api/privacy/default/consents/grant" bench/grant.lua
done
verified=$(admin "$base/api/admin/default/events/verify" | json "['verified']")
echo "ledger verifies after the grant runs: $verified"

echo
echo "ratios (measured / target) at the highest concurrency run:"
last=${CONCURRENCY##* }
ratio() { python3 -c "print(f'  $1: {float(\"${RESULT[$2/$last]:-0}\")/$3:.2f} of {$3}/s')"; }
ratio "ES256 tokens" token-ecdsa 30000
ratio "RS256 tokens" token-rsa 5000
ratio "introspection" introspect-ecdsa 15000
ratio "consent grants (SQLite)" consent-grant 2000
python3 -c "print(f'  ES256 / RS256 throughput: {float(\"${RESULT[token-ecdsa/$last]:-0}\")/max(float(\"${RESULT[token-rsa/$last]:-1}\"),1):.1f}x')"
if [ "$verified" != True ]; then
  echo "the ledger did not verify after the consent runs" >&2
  exit 1
fi
