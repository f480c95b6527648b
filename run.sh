#!/usr/bin/env bash
# The two commands of the README:
#   bash run.sh demo   generate signed invoices, verify, prove, print throughput
#   bash run.sh test   the whole test suite (the one CI runs)
# Each sets up what is missing first, idempotently: Debian packages (apt-get, as root),
# a virtualenv in .venv (or $LEDGER_CORE_VENV), the package and its test extras, the
# native build. Any failure stops with the reason and a non-zero exit.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
VENV=${LEDGER_CORE_VENV:-$ROOT/.venv}
PY=$VENV/bin/python

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
  "$PY" -c 'import ledger_core' || die "the built package does not import"
}

setup_all() { ensure_system; ensure_venv; build; }

# --- the two commands --------------------------------------------------------------
cmd_demo() {
  setup_all
  "$PY" -m ledger_core demo "$@"
}

cmd_test() {
  setup_all
  local status=0
  say "test suite (widest SIMD paths)"
  "$PY" -m pytest -q tests "$@" || status=$?
  # The primitives again with every portable path forced: fast path == portable path.
  local primitive_tests=()
  for f in tests/test_sha2.py tests/test_blake3*.py tests/test_hashing*.py tests/test_ed25519*.py tests/test_merkle*.py; do
    [ -f "$f" ] && primitive_tests+=("$f")
  done
  if [ ${#primitive_tests[@]} -gt 0 ]; then
    say "primitive tests again with LEDGER_CORE_PORTABLE=1"
    LEDGER_CORE_PORTABLE=1 "$PY" -m pytest -q "${primitive_tests[@]}" "$@" || status=$?
  fi
  [ "$status" -eq 0 ] || die "tests failed (pytest exit status $status)"
  say "all tests passed"
}

case "${1:-}" in
  demo) shift; cmd_demo "$@" ;;
  test) shift; cmd_test "$@" ;;
  build) shift; setup_all ;;
  *) echo "usage: bash run.sh demo | test | build" >&2; exit 2 ;;
esac
