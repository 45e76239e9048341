"""A loopback `mlflow server`: what the example notebook tracks to here.

Shared by tests/test_notebook_e2e.py (the notebook in-process) and the fake Databricks'
notebook runner (tests/fakecloud/notebook_runner.py, the notebook as a submitted job).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests import preloaded

SERVER_START_SECONDS = 120
REPO = Path(__file__).resolve().parents[2]
EMPTY_DATABASES = Path.home() / ".cache" / "databricks-azureml" / "mlflow"
# MLflow's installed package, found without importing it.
MLFLOW_PACKAGE = Path(next(iter(importlib.util.find_spec("mlflow").submodule_search_locations)))


class ServerError(RuntimeError):
    """The server exited or did not answer /health in time; the message carries its log."""


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    uri: str
    home: Path  # its SQLite database, log and artifact folder

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    @property
    def log(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")


def ephemeral_ports() -> range:
    """The kernel's range for port-0 binds and outgoing connections (Linux default if unread)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def free_port() -> int:
    """A free loopback port for a server another process binds later.

    Taken below the ephemeral range: an mlflow server binds some 20 s after it is given its
    port, and in that time any port-0 bind or outgoing connection of a parallel test could
    take an ephemeral one.
    """
    below = range(10_000, max(ephemeral_ports().start, 10_001))
    for port in random.sample(below, min(64, len(below))):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free loopback port below the ephemeral range")


def start_server(home: Path, *, serve_artifacts: bool = True) -> Server:
    """MLflow's tracking server on 127.0.0.1 (SQLite backend, artifacts under home), not yet
    waited for: the uvicorn process `mlflow server` would start, with the settings it would
    hand it (server_env).

    serve_artifacts: the server proxies artifacts (`mlflow-artifacts:/` URIs, reached through
    the tracking URI's host); False: clients write them to a local folder themselves (file://),
    which clients whose tracking URI is not the server's own http URI need.
    """
    home.mkdir(parents=True, exist_ok=True)
    database = home / "mlflow.db"
    if not database.exists():
        shutil.copyfile(_empty_database(), database)
    port = free_port()
    command = [
        str(preloaded.LAUNCHER), "-m", "uvicorn",
        "--log-config", str(MLFLOW_PACKAGE / "server" / "uvicorn_log_config.yaml"),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
        "mlflow.server.fastapi_app:app",
    ]  # fmt: skip
    (home / "artifacts").mkdir(parents=True, exist_ok=True)
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=home,
            env={
                **os.environ,
                **server_env(home, serve_artifacts),
                **preloaded.launcher_env(preloaded.MLFLOW_SERVER),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(process, f"http://127.0.0.1:{port}", home)


def _empty_database() -> Path:
    """MLflow's tables and no rows (tests/fakecloud/mlflow_tables.py), made once per MLflow
    version: a server started on a copy skips running every migration (0.85 CPU-s a server)
    and adds its own Default experiment, with its own artifact root, as on an empty file."""
    path = EMPTY_DATABASES / f"mlflow-{importlib.metadata.version('mlflow')}.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        done = preloaded.python(
            "-m", "tests.fakecloud.mlflow_tables", str(partial),
            cwd=REPO, timeout=SERVER_START_SECONDS, modules=preloaded.MLFLOW_SERVER,
        )  # fmt: skip
        if done.returncode != 0:
            raise ServerError(f"MLflow's tables were not created:\n{done.stderr}")
        os.replace(partial, path)  # whole, even when another test process made it too
    return path


def server_env(home: Path, serve_artifacts: bool) -> dict[str, str]:
    """What `mlflow server --backend-store-uri sqlite:///<home>/mlflow.db --workers 1` with
    `--artifacts-destination <home>/artifacts` (serve_artifacts) or `--default-artifact-root
    file://<home>/artifacts --no-serve-artifacts` gives the uvicorn process it starts (mlflow
    3.x: mlflow/cli `server`, mlflow/server/__init__.py `_run_server`). Started directly, the
    server skips the CLI's own interpreter, which imported all of MLflow's server a second time.
    """
    store = f"sqlite:///{home / 'mlflow.db'}"
    artifacts = home / "artifacts"
    env = {
        "MLFLOW_TRACKING_URI": store,
        "MLFLOW_REGISTRY_URI": store,
        "_MLFLOW_SERVER_FILE_STORE": store,
        "_MLFLOW_SERVER_REGISTRY_STORE": store,
        "_MLFLOW_SGI_NAME": "uvicorn",
        "MLFLOW_ENABLE_WORKSPACES": "false",
        "MLFLOW_SERVER_X_FRAME_OPTIONS": "SAMEORIGIN",
        "MLFLOW_SERVER_SECRETS_CACHE_TTL": "60",
        "MLFLOW_SERVER_SECRETS_CACHE_MAX_SIZE": "1000",
        # No background job runner (its huey consumers serve GenAI jobs): tracking and the
        # registry do not need it, and each would be a process more per server.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    if serve_artifacts:
        env["_MLFLOW_SERVER_ARTIFACT_ROOT"] = "mlflow-artifacts:/"
        env["_MLFLOW_SERVER_SERVE_ARTIFACTS"] = "true"
        env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] = str(artifacts)
    else:
        env["_MLFLOW_SERVER_ARTIFACT_ROOT"] = artifacts.as_uri()
        env["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] = "./mlartifacts"
    return env


def wait_healthy(server: Server, timeout: float = SERVER_START_SECONDS) -> Server:
    """The server once /health answers."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise ServerError(f"mlflow server exited ({server.process.returncode}):\n{server.log}")
        try:
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return _stores_created(server)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ServerError(f"mlflow server not healthy in {timeout:.0f} s:\n{server.log}")
        time.sleep(0.25)


def _stores_created(server: Server) -> Server:
    """The server once its tracking and registry stores exist: the first request to each
    creates its SQLite tables (as `mlflow server` does before it starts uvicorn), so that no two
    of a test's first requests race to create them."""
    for path in (
        "/api/2.0/mlflow/experiments/search?max_results=1",
        "/api/2.0/mlflow/registered-models/search?max_results=1",
    ):
        with urllib.request.urlopen(f"{server.uri}{path}", timeout=60) as answer:
            answer.read()
    return server


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and the workers it started (its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
