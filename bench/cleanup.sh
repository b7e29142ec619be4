#!/usr/bin/env bash
# The cleanup under load: a release server on SQLite purging every 5 s, client_credentials driven
# with wrk; one run before any expired row exists (the baseline), then a million expired rows are
# written straight into the database and a run of the same length goes while the server removes
# them in batches. Prints tokens/s and p50/p99 of both runs, how many expired rows were left at
# the end of the second, and the p99 ratio. Needs wrk (Debian package wrk).
#   bench/cleanup.sh                       # 15 s runs at concurrency 32, 1,000,000 rows
#   ROWS=2000000 DURATION=30 bench/cleanup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
CONCURRENCY=${CONCURRENCY:-32}
ROWS=${ROWS:-1000000}

SERVE_ARGS="--purge-interval 5s" source bench/server.sh cleanup
url="$base/default/cleanup-ecdsa/oauth2/token"
db="$dir/castellan.db"

run() { # -> "req/s p50 p99 non2xx"
  local out
  out=$(BASIC=${BASIC[ecdsa]} wrk -t"${WRK_THREADS:-2}" -c"$CONCURRENCY" -d"${DURATION}s" --latency -s bench/token.lua "$url")
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="50%" {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | awk '/Non-2xx/ {print $5}')"
}
expired() {
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1], timeout=30).execute("SELECT COUNT(*) FROM used_assertions WHERE jti LIKE '"'"'old-%'"'"'").fetchone()[0])' "$db"
}

printf '%-28s %10s %9s %9s %8s\n' run "tokens/s" p50 p99 non2xx
read -r rps0 p50 p99a bad < <(run)
printf '%-28s %10s %9s %9s %8s\n' "baseline" "$rps0" "$p50" "$p99a" "${bad:-0}"

python3 - "$db" "$ROWS" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
n = int(sys.argv[2])
t = time.time()
db.execute(
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    "INSERT INTO used_assertions (tenant_id, server_id, jti, expires_at) "
    "SELECT 'default', 'default', 'old-' || i, ? FROM n",
    (n - 1, int(t) - 3600),
)
db.commit()
print(f"wrote {n:,} expired rows in {time.time() - t:.1f} s", file=sys.stderr)
PY
read -r rps1 p50 p99b bad < <(run)
left=$(expired)
printf '%-28s %10s %9s %9s %8s\n' "while purging $ROWS rows" "$rps1" "$p50" "$p99b" "${bad:-0}"
echo "expired rows left after the run: $left"
python3 - "$rps0" "$rps1" "$p99a" "$p99b" <<'PY'
import sys
def ms(v):
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)
r0, r1 = float(sys.argv[1]), float(sys.argv[2])
a, b = ms(sys.argv[3]), ms(sys.argv[4])
print(f"during the purge: {r1 / r0:.2f} of the baseline rate, p99 {b:.2f} ms vs {a:.2f} ms ({b / a:.2f}x)")
PY
grep -E "expired rows purged" "$dir/server.log" | tail -3 || true
