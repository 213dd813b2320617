"""A minimal Bazel HTTP cache (GET/HEAD/PUT of /ac/<hash> and /cas/<hash>) on loopback.

For checking `--config=remote` end to end; a team uses bazel-remote or nginx WebDAV instead.

    python3 http_cache.py DIR PORT_FILE   serves DIR on 127.0.0.1, its port written to PORT_FILE
"""

from __future__ import annotations

import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

KEY = re.compile(r"^/(ac|cas)/[0-9a-f]{64}$")


def make_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Bazel's client expects

        def _path(self) -> Path | None:
            if not KEY.match(self.path):
                self.send_error(400, "expected /ac/<sha256> or /cas/<sha256>")
                return None
            return root / self.path.lstrip("/")

        def do_GET(self) -> None:
            self._send(body=True)

        def do_HEAD(self) -> None:
            self._send(body=False)

        def _send(self, body: bool) -> None:
            path = self._path()
            if path is None:
                return
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_PUT(self) -> None:
            path = self._path()
            if path is None:
                return
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main() -> int:
    root, port_file = Path(sys.argv[1]), Path(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(root))
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
