"""A JSON-answering HTTP server on 127.0.0.1, run on a thread, for the scoring tests' fakes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")


class JsonHandler(BaseHTTPRequestHandler):
    """Answers with a JSON body and logs nothing."""

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], fake_at: Callable[[str], T]) -> Iterator[T]:
    """`handler` on a free loopback port; `fake_at(base URL)` is what it sees as `server.fake`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake = fake_at(f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
