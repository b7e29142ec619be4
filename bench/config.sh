#!/usr/bin/env bash
# Configuration export and import at scale: a tenant of $CLIENTS clients (default 100,000) is
# loaded into a fresh SQLite store, exported with its secrets (`castellan export`), and imported
# back over itself with mode `update` (`castellan import`, one transaction). Reports the wall
# time and peak resident memory of each, and the dump's size.
#
#   bash bench/config.sh            # 100,000 clients
#   CLIENTS=10000 bash bench/config.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-100000}
cargo build --release -q
bin=target/release/castellan
export CASTELLAN_MASTER_KEY="config benchmark master key 0123456789abcdef"
export CASTELLAN_LOG=warn
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$bin" load --data-dir "$dir" --clients "$CLIENTS" --prefix c --secret 'config-secret-{n}-0123456789abcdef' \
  --server bench --create-server ecdsa >"$dir/load.log" 2>&1 || { cat "$dir/load.log" >&2; exit 1; }

measure() { # label, output file, then the command; prints seconds and peak RSS (MB)
  local label=$1 out=$2; shift 2
  /usr/bin/time -f '%e %M' -o "$dir/time" "$@" >"$out"
  read -r secs kb <"$dir/time"
  printf '%-8s %8s s %8s MB\n' "$label" "$secs" "$((kb / 1024))"
}

measure export "$dir/dump.json" "$bin" export --data-dir "$dir" --tenant default --with-secrets
printf '%-8s %8s MB, %s clients\n' dump "$(($(stat -c %s "$dir/dump.json") / 1024 / 1024))" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["clients"]))' "$dir/dump.json")"
measure import "$dir/import.json" "$bin" import --data-dir "$dir" --mode update "$dir/dump.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("import   created", d["created"], "replaced", d["replaced"], "kept", d["kept"])' "$dir/import.json"
