#!/usr/bin/env bash
# Installs the two cache servers that tests/remote_cache/check_remote_cache.sh runs, pinned and
# idempotent (a second run costs milliseconds):
#   - nginx from Debian 12 (its WebDAV module serves Bazel's HTTP cache protocol), by version;
#   - BuildGrid from PyPI (gRPC CAS + Action Cache) in its own venv, from buildgrid.lock
#     (every package by version and sha256), under ~/.cache/metalchat/buildgrid-<lock cksum>.
# Prints the venv's path on stdout.
#
#   tests/remote_cache/install_servers.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NGINX_DEBIAN_VERSION="1.22.1-9+deb12u11"
PYTHON=/usr/bin/python3  # Debian 12's 3.11 (BuildGrid needs >= 3.11)

die() {
  echo "install_servers: error: $*" >&2
  exit 1
}

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "installing nginx needs root"; fi
}

if [[ "$(dpkg-query -W -f='${Version}' nginx 2>/dev/null || true)" != "$NGINX_DEBIAN_VERSION" ]]; then
  echo "install_servers: installing nginx $NGINX_DEBIAN_VERSION (Debian)" >&2
  as_root apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    "nginx=$NGINX_DEBIAN_VERSION" "nginx-common=$NGINX_DEBIAN_VERSION" >/dev/null ||
    die "apt-get could not install nginx=$NGINX_DEBIAN_VERSION"
fi
/usr/sbin/nginx -V 2>&1 | grep -q -- --with-http_dav_module || die "/usr/sbin/nginx has no WebDAV module"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/metalchat"
venv="$cache/buildgrid-$(cksum <"$here/buildgrid.lock" | cut -d' ' -f1)"
if [[ ! -f "$venv/installed" ]]; then
  echo "install_servers: installing BuildGrid into $venv (buildgrid.lock)" >&2
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install --quiet --require-hashes --no-deps -r "$here/buildgrid.lock" >&2 ||
    die "pip could not install buildgrid.lock"
  "$venv/bin/bgd" --help >/dev/null || die "bgd does not run in $venv"
  touch "$venv/installed"
fi
echo "$venv"
