"""A peer on loopback for in-process tests: a real HTTP server on 127.0.0.1 answering GET requests with
whatever `answer(path)` returns."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serve(answer: Callable[[str], tuple[int, Any]], seen: list | None = None) -> Iterator[str]:
    """Serve `answer(path) -> (status, body)` (body: bytes as they are, anything else as JSON) on a free
    loopback port; yields the base URL. `seen` collects (raw request-target, headers) of every request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if seen is not None:
                seen.append((self.path, dict(self.headers)))
            status, body = answer(self.path)
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
