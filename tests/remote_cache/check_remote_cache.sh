#!/usr/bin/env bash
# Checks the documented shared cache, `--config=remote --remote_cache=URL`, against the two real
# servers a team runs (docs/TEAM.md): nginx with WebDAV (HTTP) and BuildGrid (gRPC CAS + Action
# Cache), each started empty on loopback (start_server.sh, configs in this folder). For each:
# build an image in a clean output base as CI does (--config=ci: it fills the cache), then as a
# developer (--config=remote: read-only) in a second clean output base, which must take every
# action from the cache and add nothing to it. The two output bases are made once and cleaned
# (`bazel clean`) between servers, so the external repositories are set up only twice.
#
#   tests/remote_cache/check_remote_cache.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/tests/remote_cache"
work="$(mktemp -d /tmp/metalchat-remote.XXXXXX)"
cleanup() {
  local pid
  for pid in "$work"/*/server.pid; do [[ -f "$pid" ]] && kill "$(cat "$pid")" 2>/dev/null; done
  for base in fill hit; do [[ -d "$work/$base" ]] && "$repo/bazelw" --output_base="$work/$base" shutdown 2>/dev/null; done
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

BGD_VENV="$("$here/install_servers.sh")"
export BGD_VENV
target=//images:rpi4_kernel

cd "$repo"
build() {  # build <base> <config> <url>: $target in output base <base>, --config=<config>, cache <url>
  ./bazelw --output_base="$work/$1" clean >/dev/null 2>&1 || true
  ./bazelw --output_base="$work/$1" build --config="$2" --remote_cache="$3" --disk_cache= \
    --experimental_convenience_symlinks=ignore "$target" >"$work/$1.log" 2>&1 || {
    cat "$work/$1.log" >&2
    echo "check_remote_cache: build in $1 against $3 failed" >&2
    exit 1
  }
  grep -E "^INFO: [0-9]+ processes" "$work/$1.log"
}

for server in nginx buildgrid; do
  start=$(date +%s)
  url="$("$here/start_server.sh" "$server" "$work/$server")"
  echo "== $server at $url"
  build fill ci "$url"
  stored="$(find "$work/$server" -type f | wc -l)"
  build hit remote "$url"
  processes="$(grep -E "^INFO: [0-9]+ processes" "$work/hit.log")"
  if ! grep -qE "[0-9]+ remote cache hit" <<<"$processes" || grep -qE "[0-9]+ (linux-sandbox|processwrapper-sandbox|local|worker)" <<<"$processes"; then
    echo "FAIL: $server: the second clean build ran actions itself: $processes"
    exit 1
  fi
  if [[ "$(find "$work/$server" -type f | wc -l)" != "$stored" ]]; then
    echo "FAIL: $server: the read-only (--config=remote) build wrote to the cache"
    exit 1
  fi
  kill "$(cat "$work/$server/server.pid")"
  rm "$work/$server/server.pid"
  echo "$server: the second clean build ran no action itself ($stored files in the server's folder, $(($(date +%s) - start)) s)"
done
