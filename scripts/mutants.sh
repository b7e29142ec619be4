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
# and all the files below take about three hours (about 900 mutants); the API suite is not
# rerun per mutant.
# Do not build in this tree while it starts: it copies target/ (see .cargo/mutants.toml).
# Results: mutants.out/mutants.out (caught.txt, missed.txt, …; the castellan crate's in
# mutants.out/app/mutants.out), then one summary line per file.
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
    crates/oauth/src/authorize/mod.rs
    crates/oauth/src/authorize/checks.rs
    crates/oauth/src/secrets.rs
    crates/oauth/src/session.rs
    crates/oauth/src/gateway.rs
    crates/control/src/access.rs
    crates/control/src/ledger.rs
    crates/control/src/spec.rs
    crates/control/src/spec/yaml.rs
    crates/domain/src/permission.rs
    crates/policy/src/evaluate.rs
    crates/policy/src/compile.rs
    crates/policy/src/rego.rs
    crates/policy/src/sandbox.rs
    crates/jose/src/jwt.rs
    crates/jose/src/seal.rs
    crates/castellan/src/outbound.rs
  )
fi

# Files of the library crates are tested by those crates' tests; files of the castellan crate by
# its unit tests only (`--lib`: its API suite takes minutes per mutant).
libs=()
app=()
for f in "${files[@]}"; do
  case "$f" in
    crates/castellan/*) app+=(--file "$f") ;;
    *) libs+=(--file "$f") ;;
  esac
done

# Runs cargo mutants with the given arguments into $1; 0 when it ran (whatever it found).
run() {
  local out=$1
  shift
  mkdir -p "$out"
  set +e
  # shellcheck disable=SC2086 # MUTANTS_ARGS is a list of flags
  cargo mutants "$@" ${MUTANTS_ARGS:-} --output "$out" -j 1 >&2
  local rc=$?
  set -e
  # 0: all caught; 2: some missed; 3: timeouts; anything else: the run itself failed.
  if [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ $rc -ne 3 ]; then
    echo "cargo mutants failed (exit $rc)" >&2
    exit 1
  fi
}

outs=()
if [ ${#libs[@]} -gt 0 ]; then
  run mutants.out "${libs[@]}" \
    --test-package castellan-oauth --test-package castellan-control --test-package castellan-domain \
    --test-package castellan-policy --test-package castellan-jose
  outs+=(mutants.out/mutants.out)
fi
if [ ${#app[@]} -gt 0 ]; then
  run mutants.out/app "${app[@]}" --test-package castellan --cargo-test-arg=--lib
  outs+=(mutants.out/app/mutants.out)
fi

python3 - "${outs[@]}" <<'PY'
import collections, json, sys
per = collections.defaultdict(collections.Counter)
for out in sys.argv[1:]:
    d = json.load(open(f"{out}/outcomes.json"))
    for o in d["outcomes"]:
        m = o["scenario"].get("Mutant") if isinstance(o["scenario"], dict) else None
        if m:
            per[m["file"]][o["summary"]] += 1
for f, c in sorted(per.items()):
    print(f"{f}: caught {c['CaughtMutant']}, missed {c['MissedMutant']}, "
          f"timeout {c['Timeout']}, unviable {c['Unviable']}")
PY
missed=0
for out in "${outs[@]}"; do
  if [ -s "$out/missed.txt" ]; then
    sed 's/^/missed: /' "$out/missed.txt"
    missed=1
  fi
done
exit $missed
