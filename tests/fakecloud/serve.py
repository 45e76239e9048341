"""The loopback cloud of the e2e tests: ARM (tests/fakecloud/arm.py) and the Databricks REST API
(tests/fakecloud/databricks.py) served from one HTTPS server on 127.0.0.1, from one state.

A request whose Host is a workspace's `*.azuredatabricks.net` URL goes to Databricks, anything
else to ARM. The certificate, from a throwaway CA, names 127.0.0.1, localhost and the
workspace URLs (*.<n>.azuredatabricks.net), so clients check it as they would in Azure (they connect to 127.0.0.1
and verify the workspace's name).

    with FakeCloud() as cloud:   # cloud.base_url, cloud.address, cloud.ca_file, cloud.arm, ...
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakecloud.adls import BLOB_DOMAIN, DFS_DOMAIN, FakeAdls, is_storage_host
from tests.fakecloud.arm import DATABRICKS_WORKSPACE, FakeArm, Reply, ServedFake, serve_https
from tests.fakecloud.databricks import Answer, FakeDatabricks
from tests.fakecloud.databricks_account import ACCOUNT_HOST, FakeDatabricksAccount
from tests.fakecloud.databricks_credentials import ServiceCredentials
from tests.fakecloud.databricks_mlflow import DatabricksMlflow
from tests.fakecloud.databricks_storage_firewall import storage_unreachable
from tests.fakecloud.unity_catalog import UnityCatalog

DATABRICKS_DOMAIN = ".azuredatabricks.net"
ACCESS_CONNECTOR = "microsoft.databricks/accessconnectors"


class FakeCloud(ServedFake):
    def __init__(self, *, async_polls: int = 1, retry_after: int = 0) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="fakecloud-")
        self.ca_file = str(Path(self._dir.name) / "fakecloud-ca.pem")
        self.arm = FakeArm(
            async_polls=async_polls, retry_after=retry_after, state_dir=self._dir.name
        )
        self.databricks = FakeDatabricks(self._workspace_exists)
        self.databricks.compute_blocked = partial(storage_unreachable, self.arm)
        self.databricks.service_credentials = ServiceCredentials(self.connector_principal)
        self.account = FakeDatabricksAccount(self.arm)  # the account API (NCCs)
        self.adls = FakeAdls()  # the storage Unity Catalog hands out credentials for
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    @property
    def address(self) -> str:
        """host:port, also what `azure-native:metadataHost` takes."""
        return self.base_url.removeprefix("https://")

    def start(self) -> FakeCloud:
        # Workspace URLs are adb-<id>.<n>.azuredatabricks.net, n a small shard number.
        shards = [f"*.{n}{DATABRICKS_DOMAIN}" for n in range(1, 100)]
        storage = [f"*{DFS_DOMAIN}", f"*{BLOB_DOMAIN}"]
        self._server = serve_https(
            self.handle, self.ca_file, "127.0.0.1", "localhost", ACCOUNT_HOST, *shards, *storage
        )
        self.base_url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self.arm.base_url = self.base_url  # ARM's operation URLs point here
        return self

    def cleanup(self) -> None:
        self._dir.cleanup()

    def serve_mlflow(
        self, tracking: str, azureml: Callable[[str], str | None] = lambda _id: None
    ) -> DatabricksMlflow:
        """Serve each workspace's MLflow (tracking, legacy registry, Unity Catalog models) from
        the MLflow server at `tracking`; `azureml(aml_workspace_id)`: that AzureML workspace's
        MLflow URI, which dual tracking also writes to."""
        catalog = UnityCatalog(self.workspace_properties, self.adls)
        self.databricks.mlflow = DatabricksMlflow(
            tracking, self.workspace_properties, azureml, catalog
        )
        return self.databricks.mlflow

    def workspace_properties(self, host: str) -> dict[str, Any] | None:
        """The ARM properties of the Databricks workspace whose URL is `host`."""
        with self.arm._lock:
            for resource in self.arm.resources.values():
                props = resource.get("properties") or {}
                if (
                    resource["type"].lower() == DATABRICKS_WORKSPACE
                    and str(props.get("workspaceUrl", "")).lower() == host.lower()
                ):
                    return copy.deepcopy(props)
        return None

    def connector_principal(self, connector_id: str) -> str | None:
        """The principal id of an access connector's system-assigned identity, as ARM holds it
        (None: no such connector)."""
        with self.arm._lock:
            found = self.arm.resources.get(connector_id.lower())
            if found is None or found["type"].lower() != ACCESS_CONNECTOR:
                return None
            return (found.get("identity") or {}).get("principalId")

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
        if is_storage_host(host):
            return self.adls.handle(method, host, raw_path, headers, raw)
        if not host.endswith(DATABRICKS_DOMAIN):
            return self.arm._handle(method, raw_path, headers, raw)
        url = urlsplit(raw_path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return Reply(400, {"error_code": "MALFORMED_REQUEST", "message": "not JSON"})
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        if host == ACCOUNT_HOST:
            answer: Answer = self.account.handle(method, unquote(url.path), body, token)
            return Reply(answer.status, answer.body)
        answer = self.databricks.handle(
            method, host, unquote(url.path), dict(parse_qsl(url.query)), body, token
        )
        return Reply(answer.status, answer.body)
