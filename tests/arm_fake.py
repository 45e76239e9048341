"""A local HTTPS server that plays Azure Resource Manager for the teardown tests.

Threaded, on 127.0.0.1 with a random port, TLS with a throwaway CA from trustme (azure-core's
bearer token policy refuses plain http). Replies are scripted per method and path, the last
one repeating; every request is recorded. An unscripted request gets 501, which the client does
not retry, so a test that forgot a route fails loudly instead of passing on a default.
"""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import RequestsTransport

from teardown.arm import ArmClient

TOKEN = "fake-arm-token"
SUBSCRIPTION = "3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


def reply(status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> Reply:
    """A scripted answer; '{base}' in a header value becomes the server's base URL."""
    return Reply(status, body, dict(headers or {}))


def arm_error(status: int, code: str, message: str) -> Reply:
    return reply(status, {"error": {"code": code, "message": message}})


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    at: float


class FakeArm:
    """The fake ARM endpoint. Use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], list[Reply]] = {}
        self._served: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._ca_dir = tempfile.TemporaryDirectory()
        self.ca_file = str(Path(self._ca_dir.name) / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base_url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> FakeArm:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._ca_dir.cleanup()

    def on(self, method: str, path: str, *replies: Reply) -> None:
        """Script the replies to `method path` (path without query), in order."""
        if not replies:
            raise ValueError("script at least one reply")
        with self._lock:
            self._routes[(method.upper(), path)] = list(replies)
            self._served[(method.upper(), path)] = 0

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    def client(self, credential: Any = None, **overrides: Any) -> ArmClient:
        """An ArmClient for this server, with a static token and fast retries and polls."""
        settings: dict[str, Any] = {
            "retry_total": 4,
            "retry_backoff_factor": 0.01,
            "retry_backoff_max": 0.05,
            "poll_interval": 0.01,
            "operation_timeout": 5.0,
        }
        settings.update(overrides)
        return ArmClient(
            credential if credential is not None else StaticCredential(),
            endpoint=self.base_url,
            transport=RequestsTransport(connection_verify=self.ca_file),
            **settings,
        )

    def _answer(self, method: str, path: str) -> Reply:
        with self._lock:
            replies = self._routes.get((method, path))
            if replies is None:
                return arm_error(501, "FakeArmHasNoRoute", f"no reply scripted for {method} {path}")
            index = self._served[(method, path)]
            self._served[(method, path)] = index + 1
            return replies[min(index, len(replies) - 1)]


def _handler_for(fake: FakeArm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with fake._lock:
                fake.requests.append(
                    Recorded(
                        method=self.command,
                        path=url.path,
                        query=dict(parse_qsl(url.query)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        at=time.monotonic(),
                    )
                )
            answer = fake._answer(self.command, url.path)
            body = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value.replace("{base}", fake.base_url))
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class StaticCredential:
    """A TokenCredential that hands out one fixed token and records the scopes asked for."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


class FailingCredential:
    """A credential that fails as DefaultAzureCredential does when nobody is signed in."""

    def get_token(self, *_scopes: str, **_kwargs: Any) -> AccessToken:
        raise ClientAuthenticationError(
            "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
            "Attempted credentials:\n\tAzureCliCredential: Please run 'az login' to set up an "
            "account"
        )
