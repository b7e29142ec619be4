#!/usr/bin/env bash
# DPoP-bound client_credentials (RFC 9449) next to plain ones over HTTP: a release server, an ES256
# server and client, rounds that alternate a plain run and a DPoP run (each DPoP request carries a
# fresh ES256 proof made beforehand by bench/dpop_proofs.mjs with Node's WebCrypto), then the
# medians, the ratio and the p99s. Needs wrk and node (Debian packages wrk, nodejs).
#   bench/dpop.sh                  # 3 rounds of 10 s at concurrency 64
#   ROUNDS=5 DURATION=10 CONCURRENCY=32 bench/dpop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-64}
ROUNDS=${ROUNDS:-3}
THREADS=${WRK_THREADS:-2}
# Proofs per wrk thread and round: more than a run can send (the server refuses a replayed jti).
PROOFS_PER_THREAD=${PROOFS_PER_THREAD:-60000}
command -v node >/dev/null || { echo "install node (Debian package nodejs)" >&2; exit 1; }

source bench/server.sh bench
url="$base/default/bench-ecdsa/oauth2/token"
basic=${BASIC[ecdsa]}

run() { # script -> "req/s p99 non2xx"
  local out
  out=$(BASIC=$basic wrk -t"$THREADS" -c"$CONCURRENCY" -d"${DURATION}s" --latency -s "$1" "$url")
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | awk '/Non-2xx/ {print $5}')"
}
plain=()
dpop=()
printf '%-6s %-6s %12s %9s %8s\n' round kind "tokens/s" p99 non2xx
for r in $(seq "$ROUNDS"); do
  read -r rps p99 bad < <(run bench/token.lua)
  printf '%-6s %-6s %12s %9s %8s\n' "$r" plain "$rps" "$p99" "${bad:-0}"
  plain+=("$rps")
  export PROOFS="$dir/proofs"
  node bench/dpop_proofs.mjs "$url" "$PROOFS_PER_THREAD" "$PROOFS" "$THREADS"
  read -r rps p99 bad < <(run bench/dpop.lua)
  printf '%-6s %-6s %12s %9s %8s\n' "$r" dpop "$rps" "$p99" "${bad:-0}"
  dpop+=("$rps")
  # A token really is bound: one more proof, and the answer's token_type.
  node bench/dpop_proofs.mjs "$url" 1 "$dir/check" 1
  kind=$(curl -sf -H "Authorization: Basic $basic" -H "DPoP: $(cat "$dir/check.0")" -d grant_type=client_credentials "$url" | json "['token_type']")
  [ "$kind" = DPoP ] || { echo "the DPoP run's tokens were not DPoP-bound ($kind)" >&2; exit 1; }
done
python3 - "${plain[*]}" "${dpop[*]}" <<'PY'
import statistics, sys
plain = [float(x) for x in sys.argv[1].split()]
dpop = [float(x) for x in sys.argv[2].split()]
p, d = statistics.median(plain), statistics.median(dpop)
print(f"median plain {p:,.0f} tokens/s, DPoP-bound {d:,.0f} tokens/s: {d / p:.2f} of the plain rate")
PY
