#!/usr/bin/env bash
# Starts one of the shared cache servers on loopback, in the background, with its config from
# this folder, and prints the URL to give Bazel's --remote_cache once it accepts connections.
# Its pid goes to DIR/server.pid, its log to DIR/server.log. Install the servers first
# (install_servers.sh, which prints the BuildGrid venv given here as BGD_VENV).
#
#   tests/remote_cache/start_server.sh nginx DIR          -> http://127.0.0.1:PORT
#   BGD_VENV=... tests/remote_cache/start_server.sh buildgrid DIR  -> grpc://127.0.0.1:PORT
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# == 2 ]] || { echo "usage: start_server.sh nginx|buildgrid DIR" >&2; exit 2; }
kind="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

case "$kind" in
  nginx)
    mkdir -p "$dir/cache" "$dir/tmp"
    sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$here/nginx.conf" >"$dir/nginx.conf"
    user=()
    # Run as root, nginx's workers would switch to nobody, who cannot write the cache.
    [[ $EUID == 0 ]] && user=(-g "user root;")
    /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e stderr "${user[@]}" >"$dir/server.log" 2>&1 &
    url="http://127.0.0.1:$port"
    ;;
  buildgrid)
    [[ -x "${BGD_VENV:-}/bin/bgd" ]] || { echo "start_server: BGD_VENV must name the venv install_servers.sh printed" >&2; exit 2; }
    mkdir -p "$dir/cas"
    BGD_ADDRESS="127.0.0.1:$port" BGD_DIR="$dir" "$BGD_VENV/bin/bgd" server start "$here/buildgrid.yml" >"$dir/server.log" 2>&1 &
    url="grpc://127.0.0.1:$port"
    ;;
  *)
    echo "start_server: unknown server '$kind' (nginx or buildgrid)" >&2
    exit 2
    ;;
esac
echo $! >"$dir/server.pid"
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$url"
    exit 0
  fi
  kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || break
  sleep 0.2
done
echo "start_server: $kind did not start on port $port; its log:" >&2
cat "$dir/server.log" >&2
exit 1
