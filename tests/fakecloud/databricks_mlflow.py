"""The Databricks workspace's own MLflow: tracking, the legacy registry and Unity Catalog models.

What MLflow's `databricks` tracking store and `databricks-uc` registry store call on the
workspace host (`/api/2.0/mlflow/...`), served the way the AzureML stand-in is built: a real
`mlflow server` behind a thin filter. Each rule, with its source:

- tracking (`/api/2.0/mlflow/experiments|runs|metrics/...`): passed to the MLflow server.
  Artifacts go where the server's runs say (a local folder here, DBFS on Databricks);
- dual tracking: in a workspace linked to AzureML (ARM parameter `amlWorkspaceId`), each run
  is tracked in the linked AzureML workspace too, with its parameters, metrics and tags, in the
  experiment of the same name (Learn, "Track Azure Databricks machine learning experiments with
  MLflow and Azure Machine Learning", dual-tracking: "track ... in both the Azure Databricks
  workspace and Azure Machine Learning workspace"). Unlinked, nothing reaches AzureML;
- the legacy Workspace Model Registry (`/api/2.0/mlflow/registered-models|model-versions/...`
  and `/api/2.0/mlflow/databricks/...`): in a workspace whose default catalog is in Unity
  Catalog (ARM `defaultCatalog.initialType` UnityCatalog: a new account's workspace), it answers
  PERMISSION_DENIED "The legacy workspace model registry is disabled for the current Databricks
  workspace" (Databricks, "Workspace Model Registry": disabled for new accounts whose default
  catalog is in Unity Catalog); elsewhere the MLflow server's registry serves it;
- Unity Catalog models (`/api/2.0/mlflow/unity-catalog/...`): tests/fakecloud/unity_catalog.py.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakecloud.unity_catalog import API as UC_API
from tests.fakecloud.unity_catalog import UnityCatalog

API = "/api/2.0/mlflow"
LEGACY_REGISTRY = ("/registered-models/", "/model-versions/", "/databricks/")
LEGACY_DISABLED = (
    "The legacy workspace model registry is disabled for the current Databricks workspace"
)
# The run writes dual tracking copies to AzureML (what the client sends, by run id).
_RUN_WRITES = (
    "/runs/log-parameter",
    "/runs/log-metric",
    "/runs/log-batch",
    "/runs/set-tag",
    "/runs/update",
)


class DatabricksMlflow:
    """`tracking`: the MLflow server's http URI. `workspace(host)`: the workspace's ARM
    properties. `azureml(aml_workspace_id)`: the http URI of that AzureML workspace's MLflow
    (its stand-in's filter), or None."""

    def __init__(
        self,
        tracking: str,
        workspace: Callable[[str], dict[str, Any] | None],
        azureml: Callable[[str], str | None],
        unity_catalog: UnityCatalog,
    ) -> None:
        self.tracking = tracking
        self._workspace = workspace
        self._azureml = azureml
        self.unity_catalog = unity_catalog
        self._runs: dict[tuple[str, str], str] = {}  # (host, run id) -> the AzureML run id
        self.mirror_errors: list[str] = []
        self._lock = threading.Lock()

    def handle(
        self, method: str, host: str, path: str, query: dict[str, str], body: Any, user: str
    ) -> tuple[int, Any]:
        args = {**query, **(body or {})}
        if path.startswith(f"{UC_API}/") or path.startswith(f"{UC_API}:"):
            answer = self.unity_catalog.handle(method, host, path, args, user)
            return answer.status, answer.body
        props = self._workspace(host) or {}
        tail = path.removeprefix(API)
        if tail.startswith(LEGACY_REGISTRY) and _new_account(props):
            return 403, {"error_code": "PERMISSION_DENIED", "message": LEGACY_DISABLED}
        status, answer = call(self.tracking, method, path, query, body)
        if status == 200:
            linked = ((props.get("parameters") or {}).get("amlWorkspaceId") or {}).get("value")
            aml = self._azureml(str(linked)) if linked else None
            if aml:
                self._mirror(host, aml, tail, body or {}, answer)
        return status, answer

    def _mirror(self, host: str, aml: str, tail: str, body: dict[str, Any], answer: Any) -> None:
        try:
            if tail == "/runs/create":
                self._mirror_run(host, aml, body, answer["run"]["info"])
            elif tail in _RUN_WRITES:
                run_id = str(body.get("run_id") or body.get("run_uuid") or "")
                with self._lock:
                    twin = self._runs.get((host, run_id))
                if twin is None:
                    return
                copy = {**body, "run_id": twin}
                copy.pop("run_uuid", None)
                status, reply = call(aml, "POST", f"{API}{tail}", {}, copy)
                if status != 200:
                    self.mirror_errors.append(f"{tail}: {status} {reply}")
        except (OSError, KeyError, ValueError) as error:
            self.mirror_errors.append(f"{tail}: {error}")

    def _mirror_run(self, host: str, aml: str, body: dict[str, Any], info: dict[str, Any]) -> None:
        _, experiment = call(
            self.tracking, "GET", f"{API}/experiments/get", {"experiment_id": info["experiment_id"]}
        )
        name = experiment["experiment"]["name"]
        status, found = call(
            aml, "GET", f"{API}/experiments/get-by-name", {"experiment_name": name}
        )
        if status == 200:
            experiment_id = found["experiment"]["experiment_id"]
        else:
            _, created = call(aml, "POST", f"{API}/experiments/create", {}, {"name": name})
            experiment_id = created["experiment_id"]
        run = {
            key: body[key] for key in ("start_time", "tags", "run_name", "user_id") if key in body
        }
        status, created = call(
            aml, "POST", f"{API}/runs/create", {}, {**run, "experiment_id": experiment_id}
        )
        if status != 200:
            self.mirror_errors.append(f"/runs/create: {status} {created}")
            return
        with self._lock:
            self._runs[(host, info["run_id"])] = created["run"]["info"]["run_id"]


def _new_account(props: dict[str, Any]) -> bool:
    kind = str((props.get("defaultCatalog") or {}).get("initialType") or "")
    return kind.lower() == "unitycatalog"


def call(
    base: str, method: str, path: str, query: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    """One JSON request to an MLflow server at `base` (http://host:port)."""
    parts = urlsplit(base)
    target = path + (f"?{urlencode(query)}" if query else "")
    payload = json.dumps(body).encode() if body is not None and method != "GET" else None
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    try:
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, target, body=payload, headers=headers)
        answer = connection.getresponse()
        raw = answer.read()
    finally:
        connection.close()
    try:
        return answer.status, json.loads(raw) if raw else {}
    except ValueError:
        return answer.status, {
            "error_code": "INTERNAL_ERROR",
            "message": raw.decode(errors="replace"),
        }
