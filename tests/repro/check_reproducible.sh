#!/usr/bin/env bash
# Builds the release (//release: every board image, the SD cards, the model containers, the
# tar) and every image twice: from two clones of HEAD at different paths, each in an empty
# output base, disk cache off and a fresh zig cache. Checks that the two builds are
# byte-identical: sha256 of every release file, the tar, every image, SD card and container.
# Uncommitted changes are not part of it (the clones are of HEAD, whose commit the release's
# provenance names).
#
#   tests/repro/check_reproducible.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/metalchat-repro.XXXXXX)"
cleanup() {
  local name
  for name in first second; do
    [[ -d "$work/$name" ]] && "$repo/bazelw" --output_base="$work/$name" shutdown 2>/dev/null
  done
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
commit="$(git -C "$repo" rev-parse HEAD)"
git -C "$repo" diff --quiet HEAD -- ||
  echo "check_reproducible: note: checks HEAD ${commit:0:12}; uncommitted changes are not in it" >&2

# Two clone paths of different lengths and depths.
declare -A clone=([first]="$work/a/metalchat" [second]="$work/clone-two/src/metalchat")

build() {  # build <name>: the release and all images in clone <name>, output base $work/<name>
  local base="$work/$1" start
  start=$(date +%s)
  git clone --quiet --no-checkout "$repo" "${clone[$1]}"
  git -C "${clone[$1]}" checkout --quiet --detach "$commit"
  (cd "${clone[$1]}" &&
    ./bazelw --output_base="$base" build --disk_cache= --action_env=METALCHAT_ZIG_CACHE="$work/$1-zig" \
      --experimental_convenience_symlinks=ignore //release //images:all //models:all) >"$work/$1.log" 2>&1 || {
    cat "$work/$1.log" >&2
    echo "check_reproducible: build $1 failed" >&2
    exit 1
  }
  (cd "$base/execroot/metalchat/bazel-out/k8-fastbuild/bin" &&
    shopt -s globstar nullglob &&
    for f in release/metalchat-*.tar release/metalchat-*/** images/*_kernel/* images/*_uf2/* \
      images/*_autorun/* images/*_models_files.inc \
      images/*.img models/**/*.mcm; do
      [[ -f "$f" ]] && sha256sum "$f"
    done) >"$work/$1.sha256"
  echo "build $1 (${clone[$1]}): $(($(date +%s) - start)) s" >&2
}

build first
build second
echo "== sha256 of every release file, image, SD card and container (first build)"
cat "$work/first.sha256"
if ! diff -u "$work/first.sha256" "$work/second.sha256"; then
  echo "FAIL: the two builds differ (lines above)"
  exit 1
fi
grep -q "release/metalchat-.*\.tar$" "$work/first.sha256" || { echo "FAIL: no release tar was built"; exit 1; }
echo "$(wc -l <"$work/first.sha256") files identical across two clean builds from two clone paths"
