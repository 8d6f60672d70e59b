"""A peer on loopback for in-process tests: a real HTTP server on 127.0.0.1 answering GET requests with
whatever `answer(path)` returns, and POST requests with `post(path, body)` where given (else 501, as a
server without POST answers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serve(
    answer: Callable[[str], tuple[int, Any]],
    seen: list | None = None,
    post: Callable[[str, Any], tuple[int, Any]] | None = None,
) -> Iterator[str]:
    """Serve `answer(path) -> (status, body)` (body: bytes as they are, anything else as JSON) on a free
    loopback port; yields the base URL. `seen` collects (raw request-target, headers) of every request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if seen is not None:
                seen.append((self.path, dict(self.headers)))
            self._send(*answer(self.path))

        def do_POST(self):
            if post is None:
                self.send_error(501, f"Unsupported method ({self.command!r})")
                return
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size) or b"null")
            if seen is not None:
                seen.append((self.path, dict(self.headers)))
            self._send(*post(self.path, body))

        def _send(self, status, body):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
