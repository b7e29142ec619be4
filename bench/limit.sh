#!/usr/bin/env bash
# The token endpoint against this machine's limit, measured the same way on every machine.
#
# The limit for issuing signed tokens over HTTP is set by two costs that add up per token: the
# HTTP floor of this server on this machine (requests/s of GET /health/live under the same load
# generator) and one signature per token (signatures/s of the signing library on every core):
#
#   limit = 1 / (1/floor + 1/signatures)        ratio = tokens/s / limit
#
# Rounds alternate floor and token runs (wrk, 2 threads, same cores) so that both see the same
# machine; the median of each is reported, with the token runs' p99.
#   bench/limit.sh                      # 3 rounds of 10 s, concurrency 64
#   ROUNDS=5 DURATION=20 bench/limit.sh
#   CONCURRENCY=32 bench/limit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-64}

source bench/server.sh limit
cargo build --release -q -p castellan-jose --example sign_rate

# wrk → "req/s p99_ms"
measure() { # url script [basic]
  local out
  out=$(BASIC="${3:-}" wrk -t2 -c"$CONCURRENCY" -d"${DURATION}s" --latency -s "$2" "$1")
  if echo "$out" | grep -q 'Non-2xx'; then echo "error responses: $out" >&2; exit 1; fi
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
m = re.search(r'^\s*99%\s+([\d.]+)(us|ms|s)\s*$', out, re.M)
p99 = float(m.group(1)) * {'us': 0.001, 'ms': 1, 's': 1000}[m.group(2)]
print(f"{rps:.0f} {p99:.2f}")
PY
}

floors=(); es=(); es_p99=(); rs=(); rs_p99=()
for r in $(seq "$ROUNDS"); do
  read -r f _ < <(measure "$base/health/live" bench/plain.lua)
  read -r t p < <(measure "$base/default/limit-ecdsa/oauth2/token" bench/token.lua "${BASIC[ecdsa]}")
  floors+=("$f"); es+=("$t"); es_p99+=("$p")
  echo "round $r: floor $f/s, ES256 tokens $t/s (p99 $p ms)"
done
read -r t p < <(measure "$base/default/limit-rsa/oauth2/token" bench/token.lua "${BASIC[rsa]}")
rs+=("$t"); rs_p99+=("$p")
echo "RS256 tokens $t/s (p99 $p ms)"
read -r _ _ sig_es < <(target/release/examples/sign_rate ES256 3)
read -r _ _ sig_rs < <(target/release/examples/sign_rate RS256 3)
echo "signatures on every core: ES256 $sig_es/s, RS256 $sig_rs/s"

python3 - "${floors[*]}" "${es[*]}" "${es_p99[*]}" "${rs[*]}" "${rs_p99[*]}" "$sig_es" "$sig_rs" <<'PY'
import statistics, sys
floor, es, es_p99, rs, rs_p99 = (statistics.median(map(float, a.split())) for a in sys.argv[1:6])
sig_es, sig_rs = float(sys.argv[6]), float(sys.argv[7])
limit = lambda sig: 1 / (1 / floor + 1 / sig)
print()
print(f"HTTP floor (GET /health/live, median)   {floor:10.0f}/s")
print(f"ES256: limit {limit(sig_es):8.0f}/s  tokens {es:8.0f}/s  ratio {es / limit(sig_es):.2f}  p99 {es_p99:.2f} ms   (target 0.85, p99 < 5 ms)")
print(f"RS256: limit {limit(sig_rs):8.0f}/s  tokens {rs:8.0f}/s  ratio {rs / limit(sig_rs):.2f}  p99 {rs_p99:.2f} ms   (target 0.85)")
PY
