#!/usr/bin/env bash
# Runs every check of Stem Master from a fresh clone and ends with one line
# "N passed, M failed". Installs what it needs first: Debian packages only if
# missing, and a Python virtual environment (target/host-venv) with pedalboard.
#
#   bash tests/run-all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG_DIR=target/test-logs
mkdir -p "$LOG_DIR"

passed=0
failed=0
failures=()

step() { printf '\n=== %s ===\n' "$*"; }
gate() { # gate NAME COMMAND... : a check that counts as one test
  local name=$1; shift
  step "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

# --- what the machine needs -------------------------------------------------
need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v c++ >/dev/null || need_apt+=(g++)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v curl >/dev/null || need_apt+=(curl)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# The editor test renders the real editor under Xvfb with Mesa's software
# OpenGL and measures the picture with ImageMagick.
command -v xvfb-run >/dev/null || need_apt+=(xvfb)
command -v xauth >/dev/null || need_apt+=(xauth)
command -v import >/dev/null || need_apt+=(imagemagick)
ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1 || need_apt+=(libgl1-mesa-dri libglx-mesa0)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component" || true
done

VENV=target/host-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pedalboard, numpy, pytest' 2>/dev/null; then
  step "python venv with pedalboard"
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check pedalboard numpy pytest
fi

# --- static checks ----------------------------------------------------------
gate "cargo fmt --check" cargo fmt --all -- --check
gate "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings

# --- release bundles and CLI (the host tests load these) ---------------------
gate "bundle VST3 + CLAP" cargo xtask bundle stem_master --release --locked
gate "release CLI" cargo build --release --locked -p stem_master --bin stem-master
export STEM_MASTER_CLAP="$ROOT/target/bundled/Stem Master.clap"
export STEM_MASTER_VST3="$ROOT/target/bundled/Stem Master.vst3"
export STEM_MASTER_CLI="$ROOT/target/release/stem-master"

# --- Steinberg's VST3 validator (built once, cached in ~/.cache) ---------------
gate "VST3 validator -e" bash tests/vst3-validator.sh "$STEM_MASTER_VST3"

# --- Rust tests (debug, opt-level 1), including the CLAP host ----------------
step "cargo test --workspace"
cargo test --workspace --locked 2>&1 | tee "$LOG_DIR/cargo-test.log"
cargo_status=${PIPESTATUS[0]}
read -r rust_passed rust_failed < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p + 0, f + 0 }' "$LOG_DIR/cargo-test.log")
passed=$((passed + rust_passed)); failed=$((failed + rust_failed))
if [ "$cargo_status" -ne 0 ] && [ "$rust_failed" -eq 0 ]; then
  failed=$((failed + 1)); failures+=("cargo test (did not run to completion)")
elif [ "$rust_failed" -ne 0 ]; then
  failures+=("cargo test: $rust_failed failed")
fi

# --- VST3 in pedalboard ------------------------------------------------------
step "pytest tests/host (pedalboard)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/host 2>&1 | tee "$LOG_DIR/pytest.log"
py_status=${PIPESTATUS[0]}
read -r py_passed py_failed < <(tail -1 "$LOG_DIR/pytest.log" | awk '{ for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|error)/) f += $i } } END { print p + 0, f + 0 }')
passed=$((passed + py_passed)); failed=$((failed + py_failed))
if [ "$py_status" -ne 0 ] && [ "$py_failed" -eq 0 ]; then
  failed=$((failed + 1)); failures+=("pytest (did not run to completion)")
elif [ "$py_failed" -ne 0 ]; then
  failures+=("pytest: $py_failed failed")
fi

echo
for failure in "${failures[@]}"; do echo "FAILED: $failure"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
