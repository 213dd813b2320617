#!/usr/bin/env bash
# Replays README.md's first two commands as a new user would: in a fresh clone of this
# repository, with empty caches (Bazel's output root, repository cache and disk cache, zig's
# cache) and a fresh launcher cache, so the launcher's install path runs too. Prints the wall
# time of each command.
#
#   tests/fresh_clone/replay_readme.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/metalchat-fresh.XXXXXX)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

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
build --action_env=METALCHAT_ZIG_CACHE=$work/zig-cache
RC
export XDG_CACHE_HOME="$work/xdg-cache"

# What a user types at the first command's console: choose the first model, one greedy
# answer, back to the menu, power off. The chat must have answered.
chat=$'1\n/temp 0\n/len 24\nIn the beginning\n/exit\nq\n'

cd "$work/clone"
for i in 0 1; do
  echo "== README command $((i + 1)): ${commands[$i]}"
  start=$(date +%s)
  if [[ $i == 0 ]]; then
    bash -c "${commands[$i]}" <<<"$chat" | tee "$work/console.txt"
    grep -q "^Generation: [0-9]* tokens" "$work/console.txt" ||
      { echo "replay_readme: the chat did not answer" >&2; exit 1; }
  else
    bash -c "${commands[$i]}" </dev/null
  fi
  echo "== README command $((i + 1)) passed in $(($(date +%s) - start)) s (cold caches)"
done
