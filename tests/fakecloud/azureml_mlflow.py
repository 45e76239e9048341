"""AzureML's MLflow surface on loopback: a real `mlflow server` behind a thin filter.

The filter passes every request through to the MLflow server, except the ones AzureML's tracking
server does not implement, which it answers the way AzureML does (where that is known) or with
an MLflow-style error (where only the limit is documented). Each rule names its source:

- logged models (`/api/2.0/mlflow/logged-models` and below): AzureML answers 404 with an empty
  body, so MLflow 3's `mlflow.<flavor>.log_model` fails before it registers anything
  (Azure/azure-sdk-for-python#44896, mlflow 3.5/3.8 with azureml-mlflow 1.60/1.61;
  Azure/azureml-examples#3885, "logged-models API ... not supported by AzureML tracking server");
- Learn, "Manage models registry in Azure Machine Learning with MLflow" (Limitations and
  "Review supported capabilities for managing models"): no renaming of registered models; no
  deleting a registered model (container), only its versions; no `LIKE`/`ILIKE` and no tags in
  registered-model searches; only models in MLflow format (an `MLmodel` file) registered from
  runs of the same workspace or from files uploaded to its store (a run tracked in Databricks
  cannot be registered: Azure/azureml-examples, track_with_databricks_deploy_aml.ipynb);
- Learn, "Query & compare experiments and runs with MLflow" ("Support matrix for querying runs
  and experiments"): runs are ordered by attributes only (not metrics, params or tags); no `OR`
  in run filters; no `!=` on tags; no renaming experiments.

Where AzureML's own answer is not documented, the filter answers 400 BAD_REQUEST naming the limit:
a client cannot tell our error from AzureML's, only that the call fails.

    with AzureMLFilter(upstream="http://127.0.0.1:5000", artifacts=Path(...)) as aml:
        mlflow.set_tracking_uri(aml.uri)
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"  # the server's proxied artifact store
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
_LIKE = re.compile(r"\b(I?LIKE)\b", re.IGNORECASE)
_OR = re.compile(r"\bOR\b", re.IGNORECASE)
_TAG_NOT_EQUAL = re.compile(r"\btags\.\S+\s*!=", re.IGNORECASE)
_ORDER_BY_KEY = re.compile(r"^\s*`?(metrics|params|tags)\.", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    status: int
    body: bytes  # empty: AzureML's 404 on logged models has no body


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def values(self, key: str) -> list[str]:
        """A parameter from the query (GET) or the JSON body (POST), as strings."""
        found = list(self.query.get(key, []))
        value = self.json().get(key)
        if isinstance(value, list):
            found += [str(v) for v in value]
        elif value is not None:
            found.append(str(value))
        return found


def unsupported(what: str) -> Refusal:
    message = f"{what} is not supported by Azure Machine Learning's MLflow tracking server"
    body = json.dumps({"error_code": "BAD_REQUEST", "message": message}).encode()
    return Refusal(400, body)


@dataclass
class AzureMLRules:
    """The requests AzureML does not serve; `artifacts` is the MLflow server's artifact root."""

    artifacts: Path
    refused: list[str] = field(default_factory=list)  # "METHOD path" of each refused request

    def check(
        self, request: Request, run_artifact_uri: Callable[[str], str | None]
    ) -> Refusal | None:
        refusal = self._check(request, run_artifact_uri)
        if refusal is not None:
            self.refused.append(f"{request.method} {request.path}")
        return refusal

    def _check(
        self, request: Request, run_artifact_uri: Callable[[str], str | None]
    ) -> Refusal | None:
        path = request.path
        # Azure/azure-sdk-for-python#44896: 404, empty body, for every logged-models call.
        if path == f"{API}/logged-models" or path.startswith(f"{API}/logged-models/"):
            return Refusal(404, b"")
        # Learn, "Manage models registry ...": "doesn't support renaming models".
        if path == f"{API}/registered-models/rename":
            return unsupported("Renaming a registered model")
        # Learn, "Manage models registry ...": "doesn't support deleting the entire model
        # container"; deleting versions is supported.
        if path == f"{API}/registered-models/delete":
            return unsupported("Deleting a registered model (container)")
        if path == f"{API}/registered-models/search":
            for text in request.values("filter"):
                # Learn, support matrix: no LIKE/ILIKE, no search by tag.
                if _LIKE.search(text):
                    return unsupported("Searching registered models with LIKE/ILIKE")
                if "tags." in text.lower() or "tag." in text.lower():
                    return unsupported("Searching registered models by tag")
        if path == f"{API}/runs/search":
            for text in request.values("filter"):
                # Learn, "Support matrix for querying runs and experiments".
                if _OR.search(text):
                    return unsupported("Filtering runs with OR")
                if _TAG_NOT_EQUAL.search(text):
                    return unsupported("Filtering runs with != on tags")
            for key in request.values("order_by"):
                if _ORDER_BY_KEY.match(key):
                    return unsupported("Ordering runs by metrics, parameters or tags")
        # Learn, "Support matrix for querying runs and experiments": renaming experiments.
        if path == f"{API}/experiments/update" and request.values("new_name"):
            return unsupported("Renaming an experiment")
        if path == f"{API}/model-versions/create":
            return self._check_model_source(request, run_artifact_uri)
        return None

    def _check_model_source(
        self, request: Request, run_artifact_uri: Callable[[str], str | None]
    ) -> Refusal | None:
        """Learn, "Manage models registry ...": only MLflow models (an MLmodel file) are
        registered, from runs of this workspace (no cross-workspace operations)."""
        source = next(iter(request.values("source")), "")
        folder = self._local_folder(source, run_artifact_uri)
        if folder is None:
            return unsupported(f"Registering a model from {source!r} (not a run of this workspace)")
        if not (folder / "MLmodel").is_file():
            return unsupported(
                f"Registering {source!r}, which is not in MLflow format (no MLmodel)"
            )
        return None

    def _local_folder(
        self, source: str, run_artifact_uri: Callable[[str], str | None]
    ) -> Path | None:
        if source.startswith("runs:/"):
            run_id, _, sub = source[len("runs:/") :].partition("/")
            base = run_artifact_uri(run_id)
            if base is None:
                return None
            source = f"{base.rstrip('/')}/{sub}"
        served = urlsplit(source).path if source.startswith("http://127.0.0.1:") else ""
        if served.startswith(ARTIFACTS):  # uploaded to this store, as the plugin does
            source = f"mlflow-artifacts:{served[len(ARTIFACTS) :]}"
        if not source.startswith("mlflow-artifacts:/"):
            return None  # another store: another workspace, a local path, a logged model
        relative = source[len("mlflow-artifacts:") :].lstrip("/")
        folder = (self.artifacts / relative).resolve()
        if not folder.is_relative_to(self.artifacts.resolve()):
            return None
        return folder


class AzureMLFilter:
    """The filter as a loopback HTTP server in a thread, in front of `upstream`."""

    def __init__(self, upstream: str, artifacts: Path) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules = AzureMLRules(artifacts)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.uri = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> AzureMLFilter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=120)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def run_artifact_uri(self, run_id: str) -> str | None:
        status, _, body = self.forward(
            "GET", f"{API}/runs/get?run_id={run_id}", {"Accept": "application/json"}, b""
        )
        if status != 200:
            return None
        return json.loads(body)["run"]["info"].get("artifact_uri")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                body = self._body()
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query), body)
                refusal = front.rules.check(request, front.run_artifact_uri)
                if refusal is not None:
                    return self._answer(refusal.status, [("Content-Type", "application/json")]
                                        if refusal.body else [], refusal.body)  # fmt: skip
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers.pop("Content-Length", None)
                status, answer_headers, answer = front.forward(
                    self.command, self.path, headers, body
                )
                kept = [
                    (k, v)
                    for k, v in answer_headers
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
                ]
                return self._answer(status, kept, answer)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
