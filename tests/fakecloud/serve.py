"""The loopback cloud of the e2e tests: ARM (tests/fakecloud/arm.py) and the Databricks REST API
(tests/fakecloud/databricks.py) served from one HTTPS server on 127.0.0.1, from one state.

A request whose Host is a workspace's `*.azuredatabricks.net` URL goes to Databricks, anything
else to ARM. The certificate, from a throwaway CA, names 127.0.0.1, localhost and the
workspace URLs (*.<n>.azuredatabricks.net), so clients check it as they would in Azure (they connect to 127.0.0.1
and verify the workspace's name).

    with FakeCloud() as cloud:   # cloud.base_url, cloud.address, cloud.ca_file, cloud.arm, ...
"""

from __future__ import annotations

import json
import tempfile
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakecloud.arm import DATABRICKS_WORKSPACE, FakeArm, Reply, serve_https
from tests.fakecloud.databricks import Answer, FakeDatabricks

DATABRICKS_DOMAIN = ".azuredatabricks.net"


class FakeCloud:
    def __init__(self, *, async_polls: int = 1, retry_after: int = 0) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="fakecloud-")
        self.ca_file = str(Path(self._dir.name) / "fakecloud-ca.pem")
        self.arm = FakeArm(
            async_polls=async_polls, retry_after=retry_after, state_dir=self._dir.name
        )
        self.databricks = FakeDatabricks(self._workspace_exists)
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    @property
    def address(self) -> str:
        """host:port, also what `azure-native:metadataHost` takes."""
        return self.base_url.removeprefix("https://")

    def start(self) -> FakeCloud:
        # Workspace URLs are adb-<id>.<n>.azuredatabricks.net, n a small shard number.
        shards = [f"*.{n}{DATABRICKS_DOMAIN}" for n in range(1, 100)]
        self._server = serve_https(self.handle, self.ca_file, "127.0.0.1", "localhost", *shards)
        self.base_url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self.arm.base_url = self.base_url  # ARM's operation URLs point here
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._dir.cleanup()

    def __enter__(self) -> FakeCloud:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _workspace_exists(self, host: str) -> bool:
        with self.arm._lock:
            return any(
                r["type"].lower() == DATABRICKS_WORKSPACE
                and str((r.get("properties") or {}).get("workspaceUrl", "")).lower() == host
                and r["properties"].get("provisioningState") == "Succeeded"
                for r in self.arm.resources.values()
            )

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Reply:
        host = headers.get("host", "").split(":", 1)[0].lower()
        if not host.endswith(DATABRICKS_DOMAIN):
            return self.arm._handle(method, raw_path, headers, raw)
        url = urlsplit(raw_path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return Reply(400, {"error_code": "MALFORMED_REQUEST", "message": "not JSON"})
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        answer: Answer = self.databricks.handle(
            method, host, unquote(url.path), dict(parse_qsl(url.query)), body, token
        )
        return Reply(answer.status, answer.body)
