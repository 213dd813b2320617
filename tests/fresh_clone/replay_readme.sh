#!/usr/bin/env bash
# Replays README.md's first two commands as a new user would: in a fresh clone of this
# repository, with empty Bazel caches (output root, repository cache, disk cache) and a fresh
# launcher cache, so the launcher's install path runs too. Prints the wall time of each command.
#
#   tests/fresh_clone/replay_readme.sh [--keep DIR]
#
# With --keep DIR, the clone and its Bazel output root are kept in DIR for later steps
# (tests/repro/check_reproducible.sh compares against the images built here).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
keep=""
if [[ "${1:-}" == --keep ]]; then keep="$2"; fi
work="${keep:-$(mktemp -d /tmp/metalchat-fresh.XXXXXX)}"
mkdir -p "$work"
[[ -n "$keep" ]] || trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The README's quick start is the first ```sh block; its first two lines are the commands.
mapfile -t commands < <(awk '/^```sh$/{on=1; next} /^```$/{if (on) exit} on && NF' "$repo/README.md")
if [[ ${#commands[@]} -lt 2 ]]; then
  echo "replay_readme: README.md has no \`\`\`sh block with two commands" >&2
  exit 1
fi

rm -rf "$work/clone"
git clone --quiet "$repo" "$work/clone"
cat >"$work/clone/user.bazelrc" <<RC
startup --output_user_root=$work/bazel-root
build --disk_cache=
build --repository_cache=$work/repository-cache
RC
export XDG_CACHE_HOME="$work/xdg-cache"

cd "$work/clone"
for i in 0 1; do
  echo "== README command $((i + 1)): ${commands[$i]}"
  start=$(date +%s)
  # The first command boots the board and talks on its console; it reads no input here.
  bash -c "${commands[$i]}" </dev/null
  echo "== README command $((i + 1)) passed in $(($(date +%s) - start)) s (cold caches)"
done
