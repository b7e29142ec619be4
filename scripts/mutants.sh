#!/usr/bin/env bash
# Mutation testing of the security-critical code with cargo-mutants: every check in a file is
# changed in turn (`<` to `<=`, `&&` to `||`, a function to a constant…) and the tests of the
# packages that own it must fail. A change no test notices is a check the suite does not protect.
#
#   scripts/mutants.sh                 # every file below
#   scripts/mutants.sh crates/oauth/src/grants.rs …
#
# Only the owning crates' tests run for each mutant (unit tests and the engine's security tests
# with a real SQLite store), so a file takes minutes on two cores; the whole API suite is not
# rerun per mutant. Results: mutants.out/<file>/mutants.out; a summary line per file; the exit
# status is non-zero when a mutant is missed that .cargo/mutants.toml does not explain.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants (crates.io)" >&2
  cargo install --locked cargo-mutants >&2
fi

# file → the packages whose tests must catch its mutants
packages_for() {
  case "$1" in
    crates/oauth/*) echo "castellan-oauth castellan-control" ;;
    crates/control/*) echo "castellan-control" ;;
    crates/jose/*) echo "castellan-jose castellan-oauth" ;;
    crates/web/*) echo "castellan-web" ;;
    *) echo "" ;;
  esac
}

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(
    crates/oauth/src/grants.rs
    crates/oauth/src/client_auth.rs
    crates/oauth/src/authorize.rs
    crates/oauth/src/secrets.rs
    crates/oauth/src/session.rs
    crates/control/src/access.rs
    crates/jose/src/jwt.rs
    crates/jose/src/seal.rs
  )
fi

status=0
summary=()
for f in "${files[@]}"; do
  name=$(echo "$f" | tr '/' '_')
  out="mutants.out/$name"
  mkdir -p "$out"
  args=()
  for p in $(packages_for "$f"); do args+=(--test-package "$p"); done
  echo "== $f (tests of: $(packages_for "$f"))" >&2
  set +e
  cargo mutants --no-shuffle --file "$f" "${args[@]}" --output "$out" -j 1 >&2
  rc=$?
  set -e
  # 0: all caught; 2: some missed; 3: timeouts; 4: the tree fails its tests unmutated.
  if [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ $rc -ne 3 ]; then
    echo "cargo mutants failed on $f (exit $rc)" >&2
    status=1
  fi
  line=$(python3 - "$out/mutants.out/outcomes.json" "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]}: caught {d.get('caught', 0)}, missed {d.get('missed', 0)}, "
      f"timeout {d.get('timeout', 0)}, unviable {d.get('unviable', 0)}")
PY
)
  summary+=("$line")
  if [ -s "$out/mutants.out/missed.txt" ]; then
    status=1
    sed 's/^/  missed: /' "$out/mutants.out/missed.txt" >&2
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
