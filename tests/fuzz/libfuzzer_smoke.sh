#!/usr/bin/env bash
# Every C fuzz target (tests/fuzz/README.md lists them) under real libFuzzer with AddressSanitizer
# and UBSan, from the seeds the build makes and the committed ones. Debian's clang 14 is installed
# if missing (pinned below). Exits non-zero on any crash, hang, leak or sanitizer report, keeping
# the input that caused it. CI runs `tests/fuzz/libfuzzer_smoke.sh 15`.
#   tests/fuzz/libfuzzer_smoke.sh [--jobs N] [--runs N] [--keep DIR] [--max-len B] [SECONDS] [TARGET...]
# SECONDS per target (default 15); TARGET names (default all, e.g. fat32 line_edit); --jobs:
# targets fuzzed at once (default: the cores online); --runs: stop a target after N executions
# (before SECONDS); --keep: keep the binaries, corpora and logs in DIR (else a temporary folder);
# --max-len: longest input in bytes for every target (default: per target, below), e.g. 32768
# to fuzz the engines from their few-KB seeds at thousands of executions a second.
# A long run, one core: tests/fuzz/libfuzzer_smoke.sh --jobs 1 --runs 10000000 --keep DIR 7200
set -euo pipefail
cd "$(dirname "$0")/../.."

CLANG_DEBIAN_VERSION="1:14.0.6-12"
jobs="$(nproc)"
runs=-1
keep=""
max_len_all=""
while [[ $# -gt 0 && $1 == --* ]]; do
  case "$1" in
    --jobs) jobs="$2" ;;
    --runs) runs="$2" ;;
    --keep) keep="$2" ;;
    --max-len) max_len_all="$2" ;;
    *)
      echo "libfuzzer_smoke: unknown option $1 (see the header of $0)" >&2
      exit 2
      ;;
  esac
  shift 2
done
seconds="${1:-15}"
[[ $# -gt 0 ]] && shift
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ && $runs =~ ^-?[0-9]+$ &&
  $max_len_all =~ ^([1-9][0-9]*)?$ ]] || {
  echo "libfuzzer_smoke: SECONDS, --jobs, --runs and --max-len take whole numbers" >&2
  exit 2
}

if ! command -v clang-14 >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  sudo=""
  [[ $EUID -eq 0 ]] || sudo=sudo
  echo "libfuzzer_smoke: installing clang-14 $CLANG_DEBIAN_VERSION (libFuzzer, ASan)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "clang-14=$CLANG_DEBIAN_VERSION" "libclang-rt-14-dev=$CLANG_DEBIAN_VERSION" >/dev/null
fi

if [[ -n $keep ]]; then
  mkdir -p "$keep"
  work="$(cd "$keep" && pwd)"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

# Seeds the build makes: the engines' test models and tokenizer seeds, RAM bundles, FAT32
# volumes in the target's sparse form (only their non-zero sectors, a few kB each).
seed_targets=(//engines/testdata:all //apps/chat:fuzz_seed_plain //apps/chat:fuzz_seed_alpaca
  //drivers/fat32:fuzz_seeds)
./bazelw build "${seed_targets[@]}" >/dev/null 2>&1 || ./bazelw build "${seed_targets[@]}"
bin="$(./bazelw info bazel-bin 2>/dev/null)"
models="$bin/engines/testdata"

# The engines' sources: those of //engines/fuzz:engines_ubsan (what the Bazel fuzz tests link).
ubsan=//engines/fuzz:engines_ubsan
mapfile -t engines < <(./bazelw query --output=label "let s = labels(srcs, $ubsan) + \
  labels(srcs, labels(deps, $ubsan)) in kind('source file', \$s + labels(srcs, \$s))" \
  2>/dev/null | sed -n 's|^//\(.*\):\(.*\.c\)$|\1/\2|p')
[[ ${#engines[@]} -gt 10 ]] || {
  echo "libfuzzer_smoke: cannot list the sources of $ubsan" >&2
  exit 1
}
fat=(drivers/fat32/fat32.c drivers/block/block.c drivers/block/block_ram.c)

# target -> its sources (after the entry point), seeds, extra flags, longest input.
declare -A sources=(
  [container]="${engines[*]}" [llama2c]="${engines[*]}" [tokenizer]="${engines[*]}"
  [encoder]="${engines[*]}" [pretokenizer]="${engines[*]}" [turn]="${engines[*]}"
  [fat32]="${fat[*]}" [line_edit]="common/line_edit.c" [command]="apps/chat/command.c"
  [bundle]="apps/chat/bundle.c common/crc32.c" [sdhci]="drivers/sdhci/sdhci.c"
  [mailbox]="drivers/bcm_mailbox/bcm_mailbox.c drivers/bcm_mailbox/bcm_firmware.c"
  [usb_descriptors]="drivers/usb/usb.c"
  [usb_msc]="drivers/usb_msc/usb_msc.c drivers/usb_msc/fake_stick.c drivers/usb/usb.c drivers/block/block.c"
  [usb_cdc]="drivers/usb_cdc/usb_cdc.c drivers/usb/usb.c"
)
declare -A entry=(
  [container]=engines/fuzz/fuzz_container.c [llama2c]=engines/fuzz/fuzz_llama2c.c
  [tokenizer]=engines/fuzz/fuzz_tokenizer.c [encoder]=engines/fuzz/fuzz_encoder.c
  [pretokenizer]=engines/fuzz/fuzz_pretokenizer.c
  [turn]=engines/fuzz/fuzz_turn.c [fat32]=drivers/fat32/fat32_fuzz_target.c
  [line_edit]=common/fuzz_line_edit.c [command]=apps/chat/fuzz_command.c
  [bundle]=apps/chat/fuzz_bundle.c [sdhci]=drivers/sdhci/fuzz_sdhci.c
  [mailbox]=drivers/bcm_mailbox/fuzz_mailbox.c
  [usb_descriptors]=drivers/usb/fuzz_usb_descriptors.c [usb_msc]=drivers/usb_msc/fuzz_usb_msc.c
  [usb_cdc]=drivers/usb_cdc/fuzz_usb_cdc.c
)
declare -A seeds=(
  [container]="$models/*.mcm" [llama2c]="$models/*.bin"
  [tokenizer]="$models/*.seed engines/fuzz/testdata/tokseed_hf_*.seed"
  [encoder]="engines/tokenizer/testdata/*.txt" [pretokenizer]="engines/tokenizer/testdata/*.txt"
  [turn]="engines/fuzz/testdata/turn_*.txt"
  [fat32]="$bin/drivers/fat32/fuzz_seed_*.sparse" [line_edit]="common/testdata/line_edit_*.txt"
  [command]="apps/chat/testdata/command_*.txt" [bundle]="$bin/apps/chat/fuzz_seed_plain.bin $bin/apps/chat/fuzz_seed_alpaca.bin"
  [sdhci]="drivers/sdhci/testdata/*.bin" [mailbox]="drivers/bcm_mailbox/testdata/*.bin"
  [usb_descriptors]="drivers/usb/testdata/*.bin" [usb_msc]="drivers/usb_msc/testdata/*.bin"
  [usb_cdc]="drivers/usb_cdc/testdata/*.bin"
)
declare -A flags=([sdhci]="-DSDHCI_FAKE_REGISTERS" [mailbox]="-DBCM_MAILBOX_FAKE -DBCM_MAILBOX_SPINS=1000u")
declare -A max_len=([container]=1100000 [llama2c]=1100000 [tokenizer]=1100000 [encoder]=65536
  [pretokenizer]=65536 [fat32]=131072 [bundle]=65536)
all=(container llama2c tokenizer encoder pretokenizer turn fat32 line_edit command bundle sdhci
  mailbox usb_descriptors usb_msc usb_cdc)
if [[ -n $max_len_all ]]; then
  for t in "${all[@]}"; do max_len[$t]=$max_len_all; done
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ -n ${entry[$t]:-} ]] || {
    echo "libfuzzer_smoke: no target $t (targets: ${all[*]})" >&2
    exit 2
  }
done
export FUZZ_TOKENIZERS="$models/tokseed_llama.seed $models/tokseed_nanochat.seed"

cflags=(-g -O1 -fno-sanitize-recover=all -I. -Icommon/public -Idrivers/block/public
  -Idrivers/fat32/public -Idrivers/sdhci/public -Idrivers/bcm_mailbox/public -Idrivers/usb/public
  -Idrivers/usb_msc/public -Idrivers/usb_cdc/public)
for room in core kernels tokenizer container llama nanochat registry session; do
  cflags+=("-Iengines/$room/public")
done

# spawn MAX COMMAND...: runs COMMAND in the background, at most MAX at a time; drain waits for
# the rest and fails if any failed.
pending=0
failures=0
spawn() {
  local max="$1"
  shift
  "$@" &
  pending=$((pending + 1))
  if [[ $pending -ge $max ]]; then
    wait -n || failures=$((failures + 1))
    pending=$((pending - 1))
  fi
}
drain() {
  while [[ $pending -gt 0 ]]; do
    wait -n || failures=$((failures + 1))
    pending=$((pending - 1))
  done
  [[ $failures -eq 0 ]]
}

# Each source compiled once (with its target's flags; no two targets with flags share one),
# then each target linked with libFuzzer's main.
compile() { # source object extra-flags...
  local src="$1" obj="$2"
  shift 2
  clang-14 -std=c11 "${cflags[@]}" "$@" -fsanitize=fuzzer-no-link,address,undefined -c "$src" \
    -o "$obj"
}
echo "libfuzzer_smoke: building ${targets[*]}" >&2
declare -A objects=()
mkdir -p "$work/obj"
: >"$work/compile.list"
for t in "${targets[@]}"; do
  list=""
  for src in ${entry[$t]} ${sources[$t]}; do
    obj="$work/obj/${src//\//_}.o"
    if [[ -z ${objects[$src]:-} ]]; then
      objects[$src]="$obj"
      echo "$src $obj ${flags[$t]:-}" >>"$work/compile.list" # sources, objects: no spaces
    fi
    list+=" ${objects[$src]}"
  done
  objects[target_$t]="$list"
done
while read -r -a words; do spawn "$(nproc)" compile "${words[@]}"; done <"$work/compile.list"
drain || {
  echo "libfuzzer_smoke: a source failed to compile" >&2
  exit 1
}
for t in "${targets[@]}"; do
  # shellcheck disable=SC2086  # a list of objects
  clang-14 -fsanitize=fuzzer,address,undefined ${objects[target_$t]} -lm -o "$work/fuzz_$t"
done

run() { # target
  local t="$1" log="$work/$1.log"
  mkdir -p "$work/corpus_$t" "$work/findings_$t"
  # shellcheck disable=SC2086  # the seed entries are globs
  cp ${seeds[$t]} "$work/corpus_$t/"
  local start=$SECONDS
  if ! "$work/fuzz_$t" -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=4096 \
    ${max_len[$t]:+-max_len=${max_len[$t]}} -print_final_stats=1 \
    -artifact_prefix="$work/findings_$t/" "$work/corpus_$t" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "libfuzzer_smoke: fuzz_$t FAILED (log above; input in $work/findings_$t)" >&2
    return 1
  fi
  local execs rate cov
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")"
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
  echo "fuzz_$t: $execs execs in $((SECONDS - start)) s ($rate exec/s), $cov," \
    "corpus $(find "$work/corpus_$t" -type f | wc -l) inputs" \
    "$(du -sh --apparent-size "$work/corpus_$t" | cut -f1)B, no finding" >&2
}

echo "libfuzzer_smoke: ${seconds}s per target, $jobs at a time" >&2
for t in "${targets[@]}"; do spawn "$jobs" run "$t"; done
drain || {
  echo "libfuzzer_smoke: a target failed" >&2
  exit 1
}
echo "libfuzzer_smoke: ${#targets[@]} targets ran with no finding" >&2
