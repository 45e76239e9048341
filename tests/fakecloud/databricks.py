"""A stateful loopback Databricks REST API (2.0/2.1) for the e2e tests.

One workspace per `workspaceUrl` that the fake ARM holds: a request names its workspace by its
Host header, and a workspace that ARM no longer has answers 404 and loses its clusters and
secrets, as a deleted workspace's data plane does. Served beside ARM by tests/fakecloud/serve.py.

What it enforces, each from the REST API reference (docs.databricks.com/api/azure/workspace):
- secret scope names: unique in the workspace (RESOURCE_ALREADY_EXISTS), at most 128 characters
  of letters, digits, `-`, `_`, `.` and `@` (Secrets API, "Create a secret scope");
- secret keys: the same characters, at most 128 (Secrets API, "Add a secret"); a secret lives
  in an existing scope (RESOURCE_DOES_NOT_EXIST);
- clusters: `spark_version` and `node_type_id` required, `autotermination_minutes` 0 or
  10..10000, `num_workers` or `autoscale` with 0 < min <= max (Clusters API, "Create new
  cluster"); permanent-delete removes the cluster for good;
- a request without a bearer token is 401 (Authentication for Azure Databricks automation);
- workspace objects (Workspace API): `import` needs an existing parent folder and `overwrite`
  to replace (RESOURCE_ALREADY_EXISTS), `SOURCE` needs a `language`, `AUTO` makes a notebook of
  a file with the `# Databricks notebook source` header (dropping `.py`) and a workspace file of
  anything else; `delete` of a non-empty folder needs `recursive` (DIRECTORY_NOT_EMPTY);
- clusters start only from TERMINATED (Clusters API, "Start terminated cluster": a running
  cluster answers INVALID_STATE), and go PENDING, then RUNNING; one that cannot reach the
  workspace storage (`compute_blocked`) terminates at once with the reason as its message;
- one-time runs (Jobs API, "Create and trigger a one-time run"): tasks with a `task_key` and an
  existing cluster; a run of a terminated cluster starts it; a missing notebook fails the task
  with RESOURCE_DOES_NOT_EXIST. A failed task reports "Workload failed, see run output for
  details" and its error in `runs/get-output`, as Databricks does.

Notebooks run for real when a `runner` is set (tests/fakecloud/notebook_runner.py): it gets the
notebook's folder, the cluster's `spark_env_vars` with `{{secrets/<scope>/<key>}}` resolved, and
the submitting user; without one a run ends in INTERNAL_ERROR. A task without a cluster runs on
"serverless" (tests/fakecloud/serverless.py): no cluster's environment. Secret-scope ACLs,
secret reads and workspace files read back: tests/fakecloud/databricks_access.py; a request is
made by the user its token signs in as (`users`, token -> user name; otherwise USER, an admin).
"""

from __future__ import annotations

import base64
import copy
import itertools
import posixpath
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tests.fakecloud import databricks_access, databricks_jobs, serverless
from tests.fakecloud.databricks_credentials import ServiceCredentials

if TYPE_CHECKING:
    from tests.fakecloud.databricks_mlflow import DatabricksMlflow

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
USER = "deployer@contoso.com"  # who every token signs in as (SCIM Me)
NOTEBOOK_HEADER = b"# Databricks notebook source"
SECRET_REFERENCE = re.compile(r"^\{\{secrets/([^/}]+)/([^/}]+)\}\}$")
FAILED_TASK_MESSAGE = "Workload failed, see run output for details"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None


def error(status: int, code: str, message: str) -> Answer:
    return Answer(status, {"error_code": code, "message": message})


@dataclass
class Workspace:
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    libraries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # path -> {"object_type": NOTEBOOK | FILE | DIRECTORY, "language", "content" (bytes)}
    objects: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"/": {"object_type": "DIRECTORY"}}
    )
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[int, dict[str, Any]] = field(default_factory=dict)  # task run id -> output
    host: str = ""
    runner: NotebookRunner | None = None
    caller: str = USER  # who the request being served signs in as
    admins: set[str] = field(default_factory=lambda: {USER})  # the deployer: workspace admin
    groups: dict[str, set[str]] = field(default_factory=dict)  # group -> member user names
    scope_acls: dict[str, dict[str, str]] = field(default_factory=dict)  # scope -> who -> level
    secret_reads: list[tuple[str, str, str]] = field(default_factory=list)  # (user, scope, key)
    file_permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # a run's job token -> its user
    jobs: dict[int, dict[str, Any]] = field(
        default_factory=dict
    )  # tests/fakecloud/databricks_jobs.py


@dataclass(frozen=True)
class NotebookJob:
    """What a notebook run needs: its folder (relative path -> bytes), the notebook's relative
    path in it, the cluster's environment and the user it runs as."""

    files: dict[str, bytes]
    notebook: str
    env: dict[str, str]
    user: str
    host: str
    token: str = ""  # the run's own token, signing in as `user` (empty: the runner's default)
    serverless: bool = False  # on serverless compute: outside the stack's VNet


@dataclass(frozen=True)
class NotebookResult:
    ok: bool
    error: str = ""  # the exception's last line, as runs/get-output shows it
    error_trace: str = ""


class NotebookRunner(Protocol):
    def __call__(self, job: NotebookJob) -> NotebookResult: ...


class FakeDatabricks:
    """`workspace_exists(host)` tells whether ARM has a workspace with that URL."""

    def __init__(self, workspace_exists: Callable[[str], bool]) -> None:
        self._exists = workspace_exists
        self.workspaces: dict[str, Workspace] = {}
        self._lock = threading.RLock()
        self.runner: NotebookRunner | None = None  # runs submitted notebooks when set
        # the workspace's MLflow (tests/fakecloud/databricks_mlflow.py) when set
        self.mlflow: DatabricksMlflow | None = None
        # why a workspace's cluster cannot start (tests/fakecloud/databricks_storage_firewall.py)
        self.compute_blocked: Callable[[str], str | None] = lambda _host: None
        self.threads: list[threading.Thread] = []
        self.users: dict[str, str] = {}  # token -> user name, for users other than USER
        self.groups: dict[str, set[str]] = {}  # group -> members, every workspace's
        # the metastore's service credentials (tests/fakecloud/databricks_credentials.py)
        self.service_credentials = ServiceCredentials(lambda _connector: None)

    def handle(
        self, method: str, host: str, path: str, query: dict[str, str], body: Any, token: str
    ) -> Answer:
        host = host.split(":", 1)[0].lower()
        with self._lock:
            if not self._exists(host):
                self.workspaces.pop(host, None)  # the workspace is gone, and its data with it
                return error(404, "WORKSPACE_NOT_FOUND", f"no workspace at {host}")
            if not token:
                return error(401, "UNAUTHENTICATED", "a bearer token is required")
            mlflow = self.mlflow if path.startswith("/api/2.0/mlflow/") else None
        if mlflow is not None:  # its own servers, outside the lock: a run may call it meanwhile
            return Answer(*mlflow.handle(method, host, path, query, body, USER))
        with self._lock:
            ws = self.workspaces.setdefault(host, Workspace(host=host))
            ws.runner = self.runner
            ws.caller = ws.tokens.get(token) or self.users.get(token, USER)
            ws.groups = self.groups
            route = _ROUTES.get((method, re.sub(r"^/api/2\.[012]/", "/", path)))
            if route is _submit_run:
                answer, thread = _submit_run(ws, {**query, **(body or {})}, self._lock)
                if thread is not None:
                    self.threads.append(thread)
                    thread.start()
                return answer
            if route is not None:
                args = {**query, **(body or {})}
                answer = route(ws, args)
                if route in (_create_cluster, _start_cluster) and answer.status == 200:
                    cluster_id = (answer.body or {}).get("cluster_id") or args["cluster_id"]
                    _block_start(ws, cluster_id, self.compute_blocked(host))
                return answer
            match = re.fullmatch(r"/api/2\.0/permissions/clusters/([^/]+)", path)
            if match:
                return _cluster_permissions(ws, method, match.group(1), body or {})
            match = re.fullmatch(r"/api/2\.0/permissions/files/([^/]+)", path)
            if match:
                return databricks_access.file_permissions(ws, method, match.group(1), body)
            credentials = self.service_credentials.handle(
                ws, method, path, {**query, **(body or {})}
            )
            if credentials is not None:
                return credentials
            return error(501, "NOT_IMPLEMENTED", f"the fake does not serve {method} {path}")

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                host: {
                    "scopes": sorted(ws.scopes),
                    "secrets": sorted(f"{s}/{k}" for s, k in ws.secrets),
                    "clusters": copy.deepcopy(ws.clusters),
                    "permissions": copy.deepcopy(ws.permissions),
                    "objects": sorted(ws.objects),
                    "runs": copy.deepcopy(ws.runs),
                    "secret_reads": list(ws.secret_reads),
                    "scope_acls": copy.deepcopy(ws.scope_acls),
                    "file_permissions": copy.deepcopy(ws.file_permissions),
                }
                for host, ws in self.workspaces.items()
            }


def _name_error(kind: str, value: Any) -> Answer | None:
    if not isinstance(value, str) or not NAME.match(value):
        return error(
            400,
            "INVALID_PARAMETER_VALUE",
            f"{kind} {value!r} must be 1-128 letters, digits, '-', '_', '.' or '@'",
        )
    return None


def _create_scope(ws: Workspace, args: dict[str, Any]) -> Answer:
    name = args.get("scope")
    if (bad := _name_error("scope", name)) is not None:
        return bad
    if name in ws.scopes:
        return error(400, "RESOURCE_ALREADY_EXISTS", f"Scope {name} already exists!")
    backend = args.get("scope_backend_type", "DATABRICKS")
    ws.scopes[name] = {"name": name, "backend_type": backend}
    databricks_access.scope_created(ws, name)
    return Answer(200, {})


def _list_scopes(ws: Workspace, _args: dict[str, Any]) -> Answer:
    return Answer(200, {"scopes": list(ws.scopes.values())})


def _delete_scope(ws: Workspace, args: dict[str, Any]) -> Answer:
    name = args.get("scope")
    if ws.scopes.pop(name, None) is None:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {name} does not exist!")
    for key in [k for k in ws.secrets if k[0] == name]:
        del ws.secrets[key]
    ws.scope_acls.pop(name, None)
    return Answer(200, {})


def _put_secret(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope, key = args.get("scope"), args.get("key")
    if (bad := _name_error("key", key)) is not None:
        return bad
    if scope not in ws.scopes:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {scope} does not exist!")
    ws.secrets[(scope, key)] = str(args.get("string_value", ""))
    return Answer(200, {})


def _list_secrets(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope = args.get("scope")
    if scope not in ws.scopes:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {scope} does not exist!")
    keys = [{"key": k, "last_updated_timestamp": 0} for s, k in ws.secrets if s == scope]
    return Answer(200, {"secrets": keys})


def _delete_secret(ws: Workspace, args: dict[str, Any]) -> Answer:
    if ws.secrets.pop((args.get("scope"), args.get("key")), None) is None:
        return error(404, "RESOURCE_DOES_NOT_EXIST", "Secret does not exist")
    return Answer(200, {})


def _cluster_error(spec: dict[str, Any]) -> Answer | None:
    for required in ("spark_version", "node_type_id"):
        if not spec.get(required):
            return error(400, "INVALID_PARAMETER_VALUE", f"Missing required field: {required}")
    minutes = int(spec.get("autotermination_minutes", 120))
    if minutes != 0 and not 10 <= minutes <= 10000:
        return error(
            400,
            "INVALID_PARAMETER_VALUE",
            "Auto-termination minutes must be 0 or between 10 and 10000",
        )
    autoscale = spec.get("autoscale")
    if autoscale:
        low, high = int(autoscale.get("min_workers", 0)), int(autoscale.get("max_workers", 0))
        if not 0 < low <= high:
            return error(400, "INVALID_PARAMETER_VALUE", "autoscale needs 0 < min <= max")
    elif int(spec.get("num_workers", 0)) < 0:
        return error(400, "INVALID_PARAMETER_VALUE", "num_workers must not be negative")
    return None


def _create_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    if (bad := _cluster_error(args)) is not None:
        return bad
    cluster_id = f"{uuid.uuid4().hex[:4]}-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:8]}"
    ws.clusters[cluster_id] = {**copy.deepcopy(args), "cluster_id": cluster_id, "state": "RUNNING"}
    return Answer(200, {"cluster_id": cluster_id})


def _edit_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    if (bad := _cluster_error(args)) is not None:
        return bad
    state = ws.clusters[cluster_id]["state"]
    ws.clusters[cluster_id] = {**copy.deepcopy(args), "cluster_id": cluster_id, "state": state}
    return Answer(200, {})


def _get_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    return Answer(200, copy.deepcopy(ws.clusters[cluster_id]))


def _delete_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if ws.clusters.pop(cluster_id, None) is None:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    ws.permissions.pop(cluster_id, None)
    ws.libraries.pop(cluster_id, None)
    return Answer(200, {})


def _install_libraries(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    ws.libraries.setdefault(cluster_id, []).extend(args.get("libraries") or [])
    return Answer(200, {})


def _cluster_permissions(ws: Workspace, method: str, cluster_id: str, body: Any) -> Answer:
    if cluster_id not in ws.clusters:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Cluster {cluster_id} does not exist")
    if method == "PUT":  # replaces every direct grant
        ws.permissions[cluster_id] = copy.deepcopy(body.get("access_control_list") or [])
    elif method == "PATCH":
        ws.permissions.setdefault(cluster_id, []).extend(body.get("access_control_list") or [])
    elif method != "GET":
        return error(405, "METHOD_NOT_ALLOWED", method)
    return databricks_access.object_permissions(
        "cluster", cluster_id, ws.permissions.get(cluster_id, [])
    )


def _start_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    state = ws.clusters[cluster_id]["state"]
    if state != "TERMINATED":
        return error(
            400,
            "INVALID_STATE",
            f"Cluster {cluster_id} is in unexpected state {state.capitalize()}.",
        )
    ws.clusters[cluster_id]["state"] = "PENDING"  # RUNNING at the next clusters/get
    return Answer(200, {})


def _block_start(ws: Workspace, cluster_id: str, reason: str | None) -> None:
    """A cluster that cannot start terminates, and its state message says why."""
    if reason:
        ws.clusters[cluster_id].update(state="TERMINATED", state_message=reason)


def _terminate_cluster(ws: Workspace, args: dict[str, Any]) -> Answer:
    """clusters/delete: terminates (auto-termination does the same); the cluster stays."""
    cluster_id = args.get("cluster_id", "")
    if cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist")
    ws.clusters[cluster_id]["state"] = "TERMINATED"
    return Answer(200, {})


def _get_cluster_and_advance(ws: Workspace, args: dict[str, Any]) -> Answer:
    answer = _get_cluster(ws, args)
    cluster = ws.clusters.get(args.get("cluster_id", ""))
    if cluster is not None and cluster["state"] == "PENDING":
        cluster["state"] = "RUNNING"
    return answer


def _me(_ws: Workspace, _args: dict[str, Any]) -> Answer:
    return Answer(200, {"id": "1001", "userName": USER, "active": True})


def _parent(path: str) -> str:
    return posixpath.dirname(path.rstrip("/")) or "/"


def _path_error(path: Any) -> Answer | None:
    if not isinstance(path, str) or not path.startswith("/") or path != posixpath.normpath(path):
        return error(400, "INVALID_PARAMETER_VALUE", f"Path ({path!r}) must be absolute")
    return None


def _mkdirs(ws: Workspace, args: dict[str, Any]) -> Answer:
    path = args.get("path")
    if (bad := _path_error(path)) is not None:
        return bad
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        here = "/" + "/".join(parts[:depth])
        found = ws.objects.setdefault(here, {"object_type": "DIRECTORY"})
        if found["object_type"] != "DIRECTORY":
            return error(400, "RESOURCE_ALREADY_EXISTS", f"{here} exists and is not a directory")
    return Answer(200, {})


def _import(ws: Workspace, args: dict[str, Any]) -> Answer:
    path, fmt = args.get("path"), args.get("format", "SOURCE")
    if (bad := _path_error(path)) is not None:
        return bad
    try:
        content = base64.b64decode(args.get("content") or "", validate=True)
    except ValueError:
        return error(400, "MALFORMED_REQUEST", "content is not base64")
    if fmt == "SOURCE":
        if not args.get("language"):
            return error(400, "INVALID_PARAMETER_VALUE", "language is required with SOURCE")
        kind = "NOTEBOOK"
    elif fmt == "AUTO":
        kind = "NOTEBOOK" if content.startswith(NOTEBOOK_HEADER) else "FILE"
        if kind == "NOTEBOOK" and path.endswith(".py"):
            path = path[: -len(".py")]
    else:
        return error(400, "INVALID_PARAMETER_VALUE", f"the fake imports SOURCE or AUTO, not {fmt}")
    parent = ws.objects.get(_parent(path))
    if parent is None or parent["object_type"] != "DIRECTORY":
        return error(
            404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({_parent(path)}) does not exist."
        )
    if path in ws.objects and not args.get("overwrite"):
        return error(400, "RESOURCE_ALREADY_EXISTS", f"{path} already exists.")
    language = args.get("language") or ("PYTHON" if kind == "NOTEBOOK" else None)
    ws.objects[path] = {"object_type": kind, "language": language, "content": content}
    return Answer(200, {})


def _get_status(ws: Workspace, args: dict[str, Any]) -> Answer:
    path = args.get("path", "")
    found = ws.objects.get(path)
    if found is None:
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
    return Answer(
        200,
        {
            "path": path,
            "object_type": found["object_type"],
            "language": found.get("language"),
            "object_id": databricks_access.object_id(path),
        },
    )


def _delete_object(ws: Workspace, args: dict[str, Any]) -> Answer:
    path = args.get("path", "")
    if path not in ws.objects or path == "/":
        return error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
    below = [p for p in ws.objects if p.startswith(path.rstrip("/") + "/")]
    if below and not args.get("recursive"):
        return error(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty.")
    for gone in [path, *below]:
        del ws.objects[gone]
    return Answer(200, {})


_RUN_IDS = itertools.count(1000)


def _submit_run(
    ws: Workspace, args: dict[str, Any], lock: threading.RLock
) -> tuple[Answer, threading.Thread | None]:
    tasks = args.get("tasks") or []
    if len(tasks) != 1:
        return error(400, "INVALID_PARAMETER_VALUE", "the fake runs exactly one task"), None
    task = tasks[0]
    if not task.get("task_key"):
        return error(400, "INVALID_PARAMETER_VALUE", "Missing required field: task_key"), None
    spec: dict[str, Any] | None = None
    if serverless.is_serverless(task):
        spec, problem = serverless.environment(task, args)
        if problem:
            return error(400, "INVALID_PARAMETER_VALUE", problem), None
    cluster_id = task.get("existing_cluster_id", "")
    if spec is None and cluster_id not in ws.clusters:
        return error(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster_id} does not exist"), None
    notebook = (task.get("notebook_task") or {}).get("notebook_path")
    if not notebook:
        return error(400, "INVALID_PARAMETER_VALUE", "the fake runs notebook tasks only"), None
    run_id, task_run_id = next(_RUN_IDS), next(_RUN_IDS)
    page = f"https://{ws.host}/?o=0#job/0/run/{run_id}"
    ws.runs[run_id] = {
        "run_id": run_id,
        "run_name": args.get("run_name", "Untitled"),
        "run_page_url": page,
        "state": {"life_cycle_state": "PENDING", "state_message": ""},
        "tasks": [
            {
                "run_id": task_run_id,
                "task_key": task["task_key"],
                **({"existing_cluster_id": cluster_id} if spec is None else {}),
                **(
                    {"environment_key": task["environment_key"]}
                    if task.get("environment_key")
                    else {}
                ),
                "notebook_task": task["notebook_task"],
                "state": {"life_cycle_state": "PENDING"},
            }
        ],
    }
    token = f"dapi-run-{run_id}"  # the run's notebook context signs in as its submitter
    ws.tokens[token] = ws.caller
    thread = threading.Thread(
        target=_execute,
        args=(ws, run_id, task_run_id, cluster_id, notebook, lock),
        kwargs={"spec": spec, "user": ws.caller, "token": token},
        daemon=True,
    )
    return Answer(200, {"run_id": run_id}), thread


def _execute(
    ws: Workspace,
    run_id: int,
    task_run_id: int,
    cluster_id: str,
    notebook: str,
    lock: threading.RLock,
    *,
    spec: dict[str, Any] | None = None,
    user: str = USER,
    token: str = "",
) -> None:
    def finish(life: str, result: str | None, message: str, output: dict[str, Any]) -> None:
        with lock:
            state = {"life_cycle_state": life, "state_message": message}
            if result:
                state["result_state"] = result
            ws.runs[run_id]["state"] = dict(state)
            ws.runs[run_id]["tasks"][0]["state"] = dict(state)
            ws.outputs[task_run_id] = {"metadata": {"run_id": task_run_id}, **output}

    with lock:
        found = ws.objects.get(notebook)
        cluster = ws.clusters.get(cluster_id)
        computed = cluster is not None or spec is not None
        if found is None or found["object_type"] != "NOTEBOOK" or not computed:
            missing = (
                f"Notebook not found: {notebook}" if computed else f"Cluster {cluster_id} is gone"
            )
            finish("INTERNAL_ERROR", "FAILED", missing, {"error": missing})
            return
        if cluster is not None:
            cluster["state"] = "RUNNING"  # a job run starts a terminated cluster
        folder = _parent(notebook)
        files = {
            posixpath.relpath(path, folder)
            + (".py" if obj["object_type"] == "NOTEBOOK" else ""): obj["content"]
            for path, obj in ws.objects.items()
            if path.startswith(folder.rstrip("/") + "/") and obj["object_type"] != "DIRECTORY"
        }
        env = _compute_env(ws, cluster, spec)
        ws.runs[run_id]["state"] = {"life_cycle_state": "RUNNING", "state_message": ""}
        runner = ws.runner
    if runner is None:
        finish(
            "INTERNAL_ERROR",
            "FAILED",
            "the fake executes no notebooks (no runner)",
            {"error": "no runner"},
        )
        return
    job = NotebookJob(
        files, posixpath.relpath(notebook, folder) + ".py", env, user, ws.host, token,
        serverless=spec is not None,
    )  # fmt: skip
    try:
        result = runner(job)
    except Exception as crash:  # the runner itself broke: Databricks' internal error
        finish("INTERNAL_ERROR", "FAILED", f"runner crashed: {crash}", {"error": str(crash)})
        return
    if result.ok:
        finish("TERMINATED", "SUCCESS", "", {"notebook_output": {}})
    else:
        finish(
            "TERMINATED",
            "FAILED",
            FAILED_TASK_MESSAGE,
            {"error": result.error, "error_trace": result.error_trace},
        )


def _compute_env(
    ws: Workspace, cluster: dict[str, Any] | None, spec: dict[str, Any] | None
) -> dict[str, str]:
    """The cluster's `spark_env_vars` (secrets resolved) and runtime; on serverless, no
    cluster's (tests/fakecloud/serverless.py)."""
    if cluster is None:
        return serverless.serverless_env(spec or {})
    env = {
        key: _resolve_secret(ws, str(value))
        for key, value in (cluster.get("spark_env_vars") or {}).items()
    }
    env["DATABRICKS_RUNTIME_VERSION"] = str(cluster.get("spark_version", ""))
    return env


def _resolve_secret(ws: Workspace, value: str) -> str:
    """`{{secrets/<scope>/<key>}}` in spark_env_vars becomes the secret's value at cluster start
    (Databricks, "Reference a secret in an environment variable")."""
    match = SECRET_REFERENCE.match(value)
    if match is None:
        return value
    return ws.secrets.get((match.group(1), match.group(2)), "")


def _get_run(ws: Workspace, args: dict[str, Any]) -> Answer:
    run = ws.runs.get(int(args.get("run_id", 0) or 0))
    if run is None:
        return error(400, "INVALID_PARAMETER_VALUE", f"Run {args.get('run_id')} does not exist.")
    return Answer(200, copy.deepcopy(run))


def _get_run_output(ws: Workspace, args: dict[str, Any]) -> Answer:
    task_run_id = int(args.get("run_id", 0) or 0)
    if task_run_id in ws.runs:  # a multitask run's id: Databricks wants the task run's
        return error(
            400,
            "INVALID_PARAMETER_VALUE",
            "Retrieving the output of runs with multiple tasks is not supported. "
            "Please retrieve the output of each individual task run instead.",
        )
    output = ws.outputs.get(task_run_id)
    if output is None:
        return error(400, "INVALID_PARAMETER_VALUE", f"Run {task_run_id} does not exist.")
    return Answer(200, copy.deepcopy(output))


_ROUTES: dict[tuple[str, str], Callable[[Workspace, dict[str, Any]], Answer]] = {
    ("POST", "/secrets/scopes/create"): _create_scope,
    ("GET", "/secrets/scopes/list"): _list_scopes,
    ("POST", "/secrets/scopes/delete"): _delete_scope,
    ("POST", "/secrets/put"): _put_secret,
    ("GET", "/secrets/list"): _list_secrets,
    ("POST", "/secrets/delete"): _delete_secret,
    ("POST", "/clusters/create"): _create_cluster,
    ("POST", "/clusters/edit"): _edit_cluster,
    ("GET", "/clusters/get"): _get_cluster_and_advance,
    ("POST", "/clusters/start"): _start_cluster,
    ("POST", "/clusters/delete"): _terminate_cluster,
    ("POST", "/clusters/permanent-delete"): _delete_cluster,
    ("POST", "/libraries/install"): _install_libraries,
    ("GET", "/preview/scim/v2/Me"): _me,
    ("POST", "/workspace/mkdirs"): _mkdirs,
    ("POST", "/workspace/import"): _import,
    ("GET", "/workspace/get-status"): _get_status,
    ("POST", "/workspace/delete"): _delete_object,
    ("GET", "/jobs/runs/get"): _get_run,
    ("GET", "/jobs/runs/get-output"): _get_run_output,
    **databricks_access.ROUTES,
    **databricks_jobs.ROUTES,
}
_ROUTES[("POST", "/jobs/runs/submit")] = _submit_run  # type: ignore[assignment]  # needs the lock
