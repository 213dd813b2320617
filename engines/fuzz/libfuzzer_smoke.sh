#!/usr/bin/env bash
# Every engine fuzz target under real libFuzzer with AddressSanitizer and UBSan, a short run
# each from the seeds the build makes (CI runs this; engines/fuzz/README.md has longer runs).
# Debian's clang 14 is installed if missing (pinned below). Exits non-zero on any crash, leak
# or sanitizer report.
#   engines/fuzz/libfuzzer_smoke.sh [SECONDS_PER_TARGET]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/../.."

CLANG_DEBIAN_VERSION="1:14.0.6-12"
seconds="${1:-15}"

if ! command -v clang-14 >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  sudo=""
  [[ $EUID -eq 0 ]] || sudo=sudo
  echo "libfuzzer_smoke: installing clang-14 $CLANG_DEBIAN_VERSION (libFuzzer, ASan)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "clang-14=$CLANG_DEBIAN_VERSION" "libclang-rt-14-dev=$CLANG_DEBIAN_VERSION" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

./bazelw build //engines/testdata:all >/dev/null 2>&1 || ./bazelw build //engines/testdata:all
seeds="$(./bazelw info bazel-bin 2>/dev/null)/engines/testdata"

sources=(common/crc32.c engines/core/{arena,mathf,parallel,prefill,status}.c engines/kernels/{kernels,hot_kernels,ops}.c
  engines/tokenizer/{vocab,llama2c_tokenizer,bpe_tokenizer,tokenizer,unicode_tables}.c
  engines/container/container.c engines/container/tensor_map.c engines/llama/llama.c engines/llama/llama2c_file.c engines/nanochat/nanochat.c
  engines/registry/registry.c)
includes=(-I. -Icommon/public -Iengines/core/public -Iengines/kernels/public -Iengines/tokenizer/public
  -Iengines/container/public -Iengines/llama/public
  -Iengines/nanochat/public -Iengines/registry/public)

declare -A corpus=(
  [container]="$seeds/*.mcm"
  [llama2c]="$seeds/*.bin"
  [tokenizer]="$seeds/*.seed"
  [encoder]="engines/tokenizer/testdata/*.txt"
)
for target in container llama2c tokenizer encoder; do
  mkdir -p "$work/corpus_$target"
  # shellcheck disable=SC2086  # the corpus entries are globs
  cp ${corpus[$target]} "$work/corpus_$target/"
  clang-14 -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    "${includes[@]}" "engines/fuzz/fuzz_$target.c" "${sources[@]}" -lm -o "$work/fuzz_$target"
  echo "libfuzzer_smoke: fuzz_$target for ${seconds}s" >&2
  "$work/fuzz_$target" -max_total_time="$seconds" -max_len=1100000 -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 "$work/corpus_$target" 2>"$work/$target.log" || {
    tail -40 "$work/$target.log" >&2
    echo "libfuzzer_smoke: fuzz_$target failed (log above)" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units|cov:" "$work/$target.log" | tail -2 >&2
done
echo "libfuzzer_smoke: all targets ran ${seconds}s with no finding" >&2
