# Sourced by the wrk benchmarks: wrk present, a release server on a free port over a fresh data
# directory (stopped and removed on exit), `admin` (curl as the bootstrap client), `json` (read a
# member of a JSON answer), and BASIC[ecdsa|rsa]: Basic credentials of a client_credentials client
# of a server signing with that key type (ids "$1-ecdsa", "$1-rsa"). SERVE_ARGS: more flags for
# `castellan serve`.
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "install wrk (Debian package wrk)" >&2; exit 1; fi
fi
cargo build --release -q

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
secret="bench-bootstrap-secret-$(date +%s%N)"
CASTELLAN_BOOTSTRAP_CLIENT_SECRET="$secret" CASTELLAN_LOG=warn \
  target/release/castellan serve --listen "127.0.0.1:$port" --data-dir "$dir" ${SERVE_ARGS:-} >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.1; done

admin() { curl -sf -u "bootstrap:$secret" -H 'Content-Type: application/json' "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

declare -A BASIC
for kind in ecdsa rsa; do
  admin -d "{\"id\": \"$1-$kind\", \"key_type\": \"$kind\"}" "$base/api/admin/default/servers" >/dev/null
  c=$(admin -d "{\"client_id\": \"$1-$kind\", \"authorization_server_id\": \"$1-$kind\", \"grant_types\": [\"client_credentials\"], \"audience\": [\"https://api.example.com\"]}" "$base/api/admin/default/clients")
  BASIC[$kind]=$(printf '%s:%s' "$1-$kind" "$(echo "$c" | json "['client_secret']")" | base64 -w0)
done
