#!/usr/bin/env bash
# The two commands of the README:
#   bash run.sh demo   generate signed invoices, verify, prove, print throughput
#   (and bash run.sh bench: the benchmark suite, bench/suite.py; not a test)
#   bash run.sh test   the whole test suite (the one CI runs), in stages:
#     suite           every test, widest SIMD paths
#     portable        the primitive tests with LEDGER_CORE_PORTABLE=1
#     disable-avx2, disable-sha_ni, disable-bmi2
#                     the primitive tests with that one CPU feature off (LEDGER_CORE_DISABLE)
#     sanitize        the primitive, native-argument (test_native*), fuzz, concurrency and
#                     ledger (test_ledger, test_ledger_stream, test_invoice) tests against an ASan + UBSan
#                     build (build/asan)
#   Every stage runs; each prints a line before and after, then one summary line; any
#   failing stage (pytest's "collected no tests" included) makes the exit status non-zero.
#   Extra arguments go to every pytest run (bash run.sh test -k merkle).
#   LEDGER_CORE_TEST_STAGES=suite,portable runs only those stages (for developers; CI
#   runs all).
# Each sets up what is missing first, idempotently: Debian packages (apt-get, as root),
# a virtualenv in .venv (or $LEDGER_CORE_VENV), the package and its test extras, the
# native build. Any failure stops with the reason and a non-zero exit.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
VENV=${LEDGER_CORE_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
# This checkout's package first: a shared or reused venv may hold an editable install of
# another checkout, which would otherwise be what every import below finds.
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"

die() { echo "run.sh: error: $*" >&2; exit 1; }
say() { echo "run.sh: $*" >&2; }

# --- system packages -------------------------------------------------------------
missing_packages() {
  local missing=()
  if ! command -v python3 >/dev/null 2>&1; then
    # Without an interpreter nothing below can be probed: take the whole set.
    missing+=(python3 python3-venv python3-dev)
  else
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    python3 -c 'import sysconfig, os, sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)' \
      >/dev/null 2>&1 || missing+=(python3-dev)
  fi
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  [ -f /usr/include/lmdb.h ] || missing+=(liblmdb-dev)
  command -v mdb_stat >/dev/null 2>&1 || missing+=(lmdb-utils)
  echo "${missing[@]:-}"
}

ensure_system() {
  local missing
  missing=$(missing_packages)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: $missing. Run as root, or install them: apt-get install -y $missing"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing system packages ($missing) and no apt-get to install them"
  say "installing system packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null || die "apt-get install $missing failed"
  missing=$(missing_packages)
  [ -z "$missing" ] || die "still missing after apt-get: $missing"
}

# --- virtualenv and Python packages ----------------------------------------------
ensure_venv() {
  if [ ! -x "$PY" ]; then
    say "creating virtualenv $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
  fi
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "Python >= 3.9 is needed, $VENV has $("$PY" --version 2>&1)"
  # Reinstall only when the declared dependencies change.
  local stamp="$VENV/.ledger_core-deps" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    say "installing Python dependencies into $VENV"
    "$PY" -m pip install -q --upgrade pip setuptools wheel "pybind11>=2.12" || die "pip could not install the build tools"
    "$PY" -m pip install -q --no-build-isolation -e ".[test,bench]" || die "pip install -e .[test,bench] failed"
    echo "$want" > "$stamp"
  fi
}

build() {
  say "building ledger_core._native"
  LEDGER_CORE_BUILD_JOBS=${LEDGER_CORE_BUILD_JOBS:-$(nproc)} \
    "$PY" setup.py -q build_ext --inplace >"$ROOT/build.log" 2>&1 \
    || { tail -n 60 "$ROOT/build.log" >&2; die "native build failed (full log: build.log)"; }
  check_import "$ROOT/src"
}

# The package imported with the current PYTHONPATH must come from $1 (not from another
# checkout, not a stale module).
check_import() {
  local where
  where=$("$PY" -c 'import os, ledger_core._native as n; print(os.path.dirname(os.path.realpath(n.__file__)))') \
    || die "the built package does not import"
  [ "$where" = "$(realpath "$1")/ledger_core" ] \
    || die "ledger_core._native is imported from $where, expected $1/ledger_core (PYTHONPATH=$PYTHONPATH)"
}

setup_all() { ensure_system; ensure_venv; build; }

# --- the sanitizer build ---------------------------------------------------------------
# ASan + UBSan in its own build directory: setup.py compares file times only, so over the
# normal build's objects LEDGER_CORE_DEBUG=1 would relink nothing. The objects persist in
# build/asan/temp, so a second run recompiles only what changed. The package used under
# the sanitizers is assembled in build/asan/pkg: this checkout's Python files plus the
# sanitized module, put first on PYTHONPATH.
ASAN_DIR=$ROOT/build/asan

build_sanitized() {
  mkdir -p "$ASAN_DIR"
  say "building the sanitized ledger_core._native in build/asan (ASan + UBSan)"
  LEDGER_CORE_DEBUG=1 LEDGER_CORE_BUILD_JOBS=${LEDGER_CORE_BUILD_JOBS:-$(nproc)} \
    "$PY" setup.py -q build_ext --build-temp "$ASAN_DIR/temp" --build-lib "$ASAN_DIR/lib" \
    >"$ASAN_DIR/build.log" 2>&1 \
    || { tail -n 60 "$ASAN_DIR/build.log" >&2; say "sanitized build failed (full log: build/asan/build.log)"; return 1; }
  local so
  so=$(find "$ASAN_DIR/lib/ledger_core" -maxdepth 1 -name '_native*.so' | head -n 1)
  [ -n "$so" ] || { say "sanitized build made no _native*.so under build/asan/lib"; return 1; }
  rm -rf "$ASAN_DIR/pkg"
  mkdir -p "$ASAN_DIR/pkg"
  cp -R src/ledger_core "$ASAN_DIR/pkg/" || return 1
  find "$ASAN_DIR/pkg" \( -name '*.so' -o -name '__pycache__' \) -prune -exec rm -rf {} +
  cp -p "$so" "$ASAN_DIR/pkg/ledger_core/" || return 1
  # The runtimes this module links, preloaded in that order: libasan must come first in
  # the process, and libasan alone aborts at the first C++ exception
  # ("CHECK failed ... real___cxa_throw") unless libstdc++ is preloaded with it.
  local asan stdcxx
  asan=$(ldd "$so" | awk '/libasan\.so/ {print $3; exit}')
  stdcxx=$(ldd "$so" | awk '/libstdc\+\+\.so/ {print $3; exit}')
  [ -n "$asan" ] && [ -f "$asan" ] || { say "the sanitized module does not link libasan (ldd $so)"; return 1; }
  [ -n "$stdcxx" ] && [ -f "$stdcxx" ] || { say "the sanitized module does not link libstdc++ (ldd $so)"; return 1; }
  SANITIZER_PRELOAD="$asan $stdcxx"
}

# Runs "$@" under the sanitizers with the assembled package first on the path. Any report
# ends the process with a non-zero status; leaks are not checked (CPython keeps its
# interned objects to the end); a failed allocation returns null as it would unsanitized
# (NativeMemoryError), instead of aborting; PYTHONMALLOC=malloc lets ASan see the bounds
# of every Python object, not only of pymalloc's arenas. Reports go to files in
# build/asan/reports (pytest captures stderr, and a halted process never prints what was
# captured): sanitizer_reported prints them.
SANITIZER_REPORTS=$ASAN_DIR/reports
sanitized() {
  PYTHONPATH="$ASAN_DIR/pkg${PYTHONPATH:+:$PYTHONPATH}" \
  LD_PRELOAD="$SANITIZER_PRELOAD" \
  PYTHONMALLOC=malloc \
  ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=0:allocator_may_return_null=1:print_summary=1:log_path=$SANITIZER_REPORTS/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87:log_path=$SANITIZER_REPORTS/ubsan" \
    "$@"
}

# Prints every sanitizer report written since the reports folder was emptied; true when
# there was one (a report from a child process fails the stage too).
sanitizer_reported() {
  local f reported=1
  for f in "$SANITIZER_REPORTS"/*; do
    [ -f "$f" ] || continue
    reported=0
    say "sanitizer report $f:"
    head -n 30 "$f" >&2
    grep -m 1 '^SUMMARY' "$f" >&2 || true
  done
  return "$reported"
}

# --- the test stages -----------------------------------------------------------------
# The tests of the native primitives: what runs again on every SIMD rung and under the
# sanitizers. An empty list is a failure, never a silently skipped stage.
primitive_tests() {
  local f found=()
  for f in tests/test_sha2*.py tests/test_blake3*.py tests/test_hashing*.py tests/test_ed25519*.py \
           tests/test_merkle*.py tests/test_thread_pool*.py; do
    [ -f "$f" ] && found+=("$f")
  done
  echo "${found[@]:-}"
}

ALL_STAGES="suite portable disable-avx2 disable-sha_ni disable-bmi2 sanitize"
STAGE_RESULTS=()
FAILED_STAGES=()

# pytest's exit status as words; 5 (collected no tests) is a failure like any other.
pytest_status() {
  case "$1" in
    0) echo "passed" ;;
    1) echo "tests failed" ;;
    2) echo "interrupted" ;;
    3) echo "pytest internal error" ;;
    4) echo "pytest usage error" ;;
    5) echo "collected no tests (a -k/-m filter that selects none of this stage's tests? narrow LEDGER_CORE_TEST_STAGES)" ;;
    86) echo "AddressSanitizer report (see above)" ;;
    87) echo "UndefinedBehaviorSanitizer report (see above)" ;;
    88) echo "a sanitizer report from a child process (see above)" ;;
    *) echo "exit status $1 (a crash or a sanitizer abort?)" ;;
  esac
}

# run_stage NAME DESCRIPTION COMMAND...: one line before, one after, with the time.
run_stage() {
  local name=$1 what=$2 started status=0
  shift 2
  started=$(date +%s)
  say "=== stage $name: $what"
  "$@" || status=$?
  local took=$(( $(date +%s) - started ))
  if [ "$status" -eq 0 ]; then
    say "=== stage $name: passed (${took}s)"
    STAGE_RESULTS+=("$name ok ${took}s")
  else
    say "=== stage $name: FAILED: $(pytest_status "$status") (${took}s)"
    STAGE_RESULTS+=("$name FAILED ${took}s")
    FAILED_STAGES+=("$name")
  fi
}

run_pytest() { "$PY" -m pytest -q "$@"; }

sanitize_stage() {
  build_sanitized || return 1
  sanitized "$PY" -c 'import ledger_core' || { say "the sanitized package does not import"; return 1; }
  local where
  where=$(sanitized "$PY" -c 'import os, ledger_core._native as n; print(os.path.realpath(n.__file__))') || return 1
  case "$where" in
    "$ASAN_DIR"/pkg/*) ;;
    *) say "under the sanitizers ledger_core._native came from $where, not build/asan/pkg"; return 1 ;;
  esac
  local extra=() status=0 f
  for f in tests/test_native*.py tests/test_fuzz_native.py tests/test_concurrency.py tests/test_ledger.py tests/test_ledger_stream.py tests/test_invoice.py; do
    [ -f "$f" ] && extra+=("$f")
  done
  rm -rf "$SANITIZER_REPORTS"
  mkdir -p "$SANITIZER_REPORTS"
  # Fewer fuzz examples per target than the suite's 150: ASan makes each call several
  # times slower, and memory errors show on the first input that reaches them.
  # shellcheck disable=SC2086
  LEDGER_CORE_FUZZ_EXAMPLES=${LEDGER_CORE_FUZZ_EXAMPLES:-100} \
    sanitized "$PY" -m pytest -q -p no:cacheprovider $PRIMITIVES "${extra[@]}" "$@" || status=$?
  if sanitizer_reported; then
    say "the sanitizers reported (above); pytest exit status $status"
    [ "$status" -ne 0 ] || status=88
  fi
  return "$status"
}

# --- the commands ------------------------------------------------------------------

cmd_demo() {
  setup_all
  "$PY" -m ledger_core demo "$@"
}

# The benchmark suite (bench/suite.py: micro against the anchors, the macro import at
# --records, the peer pipeline, the report and plots); not a test.
cmd_bench() {
  setup_all
  "$PY" -m ledger_core bench "$@"
}

cmd_test() {
  setup_all
  # Developers may run fewer stages (LEDGER_CORE_TEST_STAGES=suite,portable); CI runs all.
  local requested=${LEDGER_CORE_TEST_STAGES:-all} wanted="" stage
  for stage in ${requested//,/ }; do
    case "$stage" in
      all) wanted="$wanted $ALL_STAGES" ;;
      disable) wanted="$wanted disable-avx2 disable-sha_ni disable-bmi2" ;;
      *) case " $ALL_STAGES " in
           *" $stage "*) wanted="$wanted $stage" ;;
           *) die "unknown test stage '$stage' in LEDGER_CORE_TEST_STAGES (stages: $ALL_STAGES; 'disable' = the three disable-*; 'all' = every stage, the default)" ;;
         esac ;;
    esac
  done
  [ -n "${wanted// /}" ] || die "LEDGER_CORE_TEST_STAGES='$requested' selects no stage"
  for stage in $ALL_STAGES; do
    case " $wanted " in *" $stage "*) ;; *) say "stage $stage skipped (LEDGER_CORE_TEST_STAGES=$requested); CI runs every stage" ;; esac
  done
  PRIMITIVES=$(primitive_tests)
  [ -n "$PRIMITIVES" ] || die "no primitive test files found under tests/ (run.sh primitive_tests)"

  local feature
  for stage in $ALL_STAGES; do
    case " $wanted " in *" $stage "*) ;; *) continue ;; esac
    case "$stage" in
      suite)
        run_stage suite "the whole suite on the widest SIMD paths" run_pytest tests "$@" ;;
      portable)
        # shellcheck disable=SC2086
        run_stage portable "the primitive tests with LEDGER_CORE_PORTABLE=1 (fast path == portable path)" \
          env LEDGER_CORE_PORTABLE=1 "$PY" -m pytest -q $PRIMITIVES "$@" ;;
      disable-*)
        feature=${stage#disable-}
        # shellcheck disable=SC2086
        run_stage "$stage" "the primitive tests with LEDGER_CORE_DISABLE=$feature (every rung below the widest)" \
          env LEDGER_CORE_DISABLE="$feature" "$PY" -m pytest -q $PRIMITIVES "$@" ;;
      sanitize)
        run_stage sanitize "the primitive, native-argument, fuzz, concurrency and ledger tests under ASan + UBSan (LEDGER_CORE_DEBUG=1, build/asan)" \
          sanitize_stage "$@" ;;
    esac
  done

  local summary
  summary=$(printf '%s, ' "${STAGE_RESULTS[@]}")
  say "summary: ${summary%, }"
  [ ${#FAILED_STAGES[@]} -eq 0 ] || die "test stages failed: ${FAILED_STAGES[*]}"
  say "all test stages passed"
}

case "${1:-}" in
  demo) shift; cmd_demo "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  build) shift; setup_all ;;
  *) echo "usage: bash run.sh demo | test | bench | build" >&2; exit 2 ;;
esac
