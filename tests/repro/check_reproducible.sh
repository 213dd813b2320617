#!/usr/bin/env bash
# Builds every image twice, each time from an empty output base, disk cache off and a fresh
# zig cache, and checks that the two builds are byte-identical (sha256 of every file).
#
#   tests/repro/check_reproducible.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/metalchat-repro.XXXXXX)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$repo"

build() {  # build <name>: builds all images in output base $work/<name>, lists their sha256
  local base="$work/$1"
  ./bazelw --output_base="$base" build --disk_cache= --action_env=METALCHAT_ZIG_CACHE="$work/$1-zig" \
    --experimental_convenience_symlinks=ignore //images:all >"$work/$1.log" 2>&1 || {
    cat "$work/$1.log" >&2
    echo "check_reproducible: build $1 failed" >&2
    exit 1
  }
  (cd "$base/execroot/metalchat/bazel-out/k8-fastbuild/bin/images" &&
    find . -maxdepth 2 \( -path './*_kernel/*' -o -path './*_uf2/*' \) | sort | while read -r f; do
      [[ -f "$f" ]] && sha256sum "$f"
    done) >"$work/$1.sha256"
  ./bazelw --output_base="$base" shutdown
}

build first
build second
echo "== sha256 of every image (first build)"
cat "$work/first.sha256"
if ! diff -u "$work/first.sha256" "$work/second.sha256"; then
  echo "FAIL: the two builds differ (lines above)"
  exit 1
fi
echo "$(wc -l <"$work/first.sha256") image files identical across two clean builds"
