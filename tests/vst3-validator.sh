#!/usr/bin/env bash
# Builds Steinberg's VST3 validator from the original sources of Debian's
# vst3sdk source package (checked against pinned SHA-256 sums) and runs it
# with -e (extensive) on the VST3 bundle given, or on target/bundled's.
# The built validator is cached in ~/.cache/stem-master (or
# $XDG_CACHE_HOME), so a machine that keeps its home builds it once.
# Needs cmake and a C++ compiler (tests/run-all.sh installs them).
#
#   bash tests/vst3-validator.sh ["path/to/Stem Master.vst3"]
set -euo pipefail
# A bundle given on the command line is relative to the caller's folder.
BUNDLE=${1:+$(realpath -m "$1")}
cd "$(dirname "$0")/.."
BUNDLE=${BUNDLE:-$PWD/target/bundled/Stem Master.vst3}
VERSION="3.7.10.14+~4.13.3"
POOL="http://deb.debian.org/debian/pool/main/v/vst3sdk"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/stem-master/vst3-validator-$VERSION"
VALIDATOR="$CACHE/validator"

# Component tarball (empty for the main one), its directory, its SHA-256.
COMPONENTS=(
  ":.:0c9fa7b578f8549d6ce6efeb427e9c7df8ca0e018bea13a523b78bb167663b81"
  "base:base:b9eb5c1e57ca2ef6b2560dd0e13822dd5a51e437b8f5a6c421b099d621d2bffb"
  "cmake:cmake:f4699e910a67e585d7d177b2a48f6aa43706b3f073c8e454615f094484374349"
  "pluginterfaces:pluginterfaces:fd426c6b26ef93fdfdc8aef7e9b836c1bf43f25b8a1ef4c0642a41fb9250ab8a"
  "public-sdk:public.sdk:ca1f70406b36f0763c799085c67deed5befc69514cc2b9cacb804512e95db335"
)

if [ ! -x "$VALIDATOR" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src"
  for entry in "${COMPONENTS[@]}"; do
    IFS=: read -r component dir sum <<<"$entry"
    name="vst3sdk_${VERSION}.orig${component:+-$component}.tar.gz"
    echo "vst3-validator: fetching $name"
    curl -fsSL --retry 3 -o "$work/$name" "$POOL/${name//+/%2B}"
    echo "$sum  $work/$name" | sha256sum -c --quiet -
    mkdir -p "$work/src/$dir"
    tar xzf "$work/$name" -C "$work/src/$dir" --strip-components=1
  done
  # Only the validator of the hosting samples.
  echo 'add_subdirectory(validator)' >"$work/src/public.sdk/samples/vst-hosting/CMakeLists.txt"
  cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
    -DSMTG_ENABLE_VSTGUI_SUPPORT=OFF -DSMTG_RUN_VST_VALIDATOR=OFF -DSMTG_CREATE_PLUGIN_LINK=OFF \
    -DSMTG_ENABLE_VST3_PLUGIN_EXAMPLES=OFF -DSMTG_ENABLE_VST3_HOSTING_EXAMPLES=ON >"$work/cmake.log" ||
    { cat "$work/cmake.log"; exit 1; }
  make -C "$work/build" -j"$(nproc)" validator >"$work/make.log" || { tail -40 "$work/make.log"; exit 1; }
  mkdir -p "$CACHE"
  cp "$work/build/bin/Release/validator" "$VALIDATOR.partial"
  mv "$VALIDATOR.partial" "$VALIDATOR"
  rm -rf "$work"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$VALIDATOR" -e "$BUNDLE" >"$log" 2>&1 || status=$?
# The failed tests and the messages the validator flags, then the result.
grep -E -B3 "\[Failed\]" "$log" || true
grep -E "ERROR|^Result" "$log" || true
exit "$status"
