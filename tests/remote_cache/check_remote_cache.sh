#!/usr/bin/env bash
# Checks the documented shared cache, `--config=remote --remote_cache=http://HOST:PORT`: builds
# an image in a fresh output base against an empty HTTP cache on loopback, then again in a
# second fresh output base, which must take every action from the cache.
#
#   tests/remote_cache/check_remote_cache.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /tmp/metalchat-remote.XXXXXX)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/cache"
python3 "$repo/tests/remote_cache/http_cache.py" "$work/cache" "$work/port" &
server=$!
for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { echo "check_remote_cache: cache server did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"

cd "$repo"
build() {  # build <name>: //images:rpi4_kernel in a fresh output base with the remote cache
  ./bazelw --output_base="$work/$1" build --config=remote --remote_cache="$url" --disk_cache= \
    --experimental_convenience_symlinks=ignore //images:rpi4_kernel >"$work/$1.log" 2>&1 || {
    cat "$work/$1.log" >&2
    exit 1
  }
  ./bazelw --output_base="$work/$1" shutdown
  grep -E "^INFO: [0-9]+ processes" "$work/$1.log"
}

build fill
build hit
if ! grep -qE "^INFO: [0-9]+ processes: .*[0-9]+ remote cache hit" "$work/hit.log" ||
  grep -qE "[0-9]+ (linux-sandbox|local)" <(grep -E "^INFO: [0-9]+ processes" "$work/hit.log"); then
  echo "FAIL: the second build did not come from the remote cache"
  exit 1
fi
echo "remote cache: the second clean build ran no action itself ($(find "$work/cache" -type f | wc -l) cache entries)"
