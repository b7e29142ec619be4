#!/usr/bin/env bash
# Mutation testing of the security-critical code with cargo-mutants: every check in a file is
# changed in turn (`<` to `<=`, `&&` to `||`, a function to a constant…) and the tests must fail.
# A change no test notices is a check the suite does not protect.
#
#   scripts/mutants.sh                                # every file below
#   scripts/mutants.sh crates/oauth/src/grants.rs …   # some of them
#   MUTANTS_ARGS=--iterate scripts/mutants.sh         # only what the last run missed (after
#                                                     # adding tests), keeping its results
#
# Only the owning crates' tests run for each mutant (unit tests, the engine's security tests and
# the control-plane tests, all on a real SQLite store), so a mutant costs seconds on two cores
# and all the files below take about 110 minutes (620 mutants); the API suite is not rerun
# per mutant.
# Do not build in this tree while it starts: it copies target/ (see .cargo/mutants.toml).
# Results: mutants.out/mutants.out (caught.txt, missed.txt, …), then one summary line per file.
# The exit status is non-zero when a mutant is missed that .cargo/mutants.toml does not exclude.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants (crates.io)" >&2
  cargo install --locked cargo-mutants >&2
fi

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(
    crates/oauth/src/grants.rs
    crates/oauth/src/client_auth.rs
    crates/oauth/src/authorize.rs
    crates/oauth/src/secrets.rs
    crates/oauth/src/session.rs
    crates/oauth/src/gateway.rs
    crates/control/src/access.rs
    crates/control/src/ledger.rs
    crates/domain/src/permission.rs
    crates/policy/src/evaluate.rs
    crates/policy/src/compile.rs
    crates/jose/src/jwt.rs
    crates/jose/src/seal.rs
  )
fi

args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
mkdir -p mutants.out
set +e
# shellcheck disable=SC2086 # MUTANTS_ARGS is a list of flags
cargo mutants "${args[@]}" ${MUTANTS_ARGS:-} \
  --test-package castellan-oauth --test-package castellan-control --test-package castellan-domain --test-package castellan-policy --test-package castellan-jose \
  --output mutants.out -j 1 >&2
rc=$?
set -e
# 0: all caught; 2: some missed; 3: timeouts; anything else: the run itself failed.
if [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ $rc -ne 3 ]; then
  echo "cargo mutants failed (exit $rc)" >&2
  exit 1
fi
python3 - mutants.out/mutants.out/outcomes.json <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
per = collections.defaultdict(collections.Counter)
for o in d["outcomes"]:
    m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
    if m:
        per[m["file"]][o["summary"]] += 1
for f, c in sorted(per.items()):
    print(f"{f}: caught {c['CaughtMutant']}, missed {c['MissedMutant']}, "
          f"timeout {c['Timeout']}, unviable {c['Unviable']}")
PY
if [ -s mutants.out/mutants.out/missed.txt ]; then
  sed 's/^/missed: /' mutants.out/mutants.out/missed.txt
  exit 1
fi
