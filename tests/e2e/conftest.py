"""Fixtures of the e2e tests: the real Pulumi engine, the stand-in plugins, the loopback cloud.

Each test gets a fresh copy of the project in a temp folder (so `pulumi stack init` and
`pulumi config set` never touch the repository's stack files), a fresh local file backend and
PULUMI_HOME, and a fresh loopback cloud. The environment has nothing of the caller's Azure or
Pulumi login: the only Azure is the fake, found through `azure-native:metadataHost`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.processes import SCENARIO_ENV, outliving, serving
from tests.e2e.standin.forkserver import SOCKET_ENV, running
from tests.fakecloud.arm import SUBSCRIPTION, TENANT
from tests.fakecloud.serve import FakeCloud

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ENGINE_BIN_ENV = "DATABRICKS_AZUREML_ENGINE_BIN"
# "0" starts every Python plugin cold instead of forking it from the preloaded interpreter.
FORKSERVER_ENV = "DATABRICKS_AZUREML_E2E_FORKSERVER"
PASSPHRASE = "e2e-passphrase"
# What a deployment needs from the project (no venv, no tests, no stack state).
PROJECT_FILES = ("__main__.py", "stack.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.private.yaml",
                 "Makefile", "requirements.txt", "requirements-uv.txt",
                 "requirements-dev.txt")  # fmt: skip
PROJECT_DIRS = (
    "arm",
    "components",
    "core",
    "teardown",
    "mlflow_setup",
    "policy",
    "notebooks",
    "tools",
)
COMMAND_TIMEOUT = 600


def engine_bin() -> Path:
    """The engine's bin folder: DATABRICKS_AZUREML_ENGINE_BIN, or build.sh's (cached) build."""
    if os.environ.get(ENGINE_BIN_ENV):
        return Path(os.environ[ENGINE_BIN_ENV])
    built = subprocess.run(
        [str(HERE / "engine" / "build.sh")], check=True, capture_output=True, text=True
    )
    return Path(built.stdout.strip().splitlines()[-1])


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Deployer:
    """Runs commands in the project copy, with the e2e environment."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env

    def run(self, *args: str, ok: bool | None = True, timeout: int = COMMAND_TIMEOUT) -> Result:
        started = time.monotonic()
        done = subprocess.run(
            list(args), cwd=self.workdir, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        result = Result(tuple(args), done.returncode, done.stdout, done.stderr)
        print(f"[{time.monotonic() - started:6.1f}s] exit {done.returncode}: {' '.join(args)}")
        if ok is True and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{result.output}")
        if ok is False and done.returncode == 0:
            raise AssertionError(
                f"{' '.join(args)} succeeded, expected a failure:\n{result.output}"
            )
        return result

    def pulumi(self, *args: str, ok: bool | None = True, timeout: int = COMMAND_TIMEOUT) -> Result:
        return self.run("pulumi", *args, "--non-interactive", ok=ok, timeout=timeout)


class Tripwire:
    """An HTTP(S) proxy that lets nothing through and records who tried.

    Every process gets it as HTTPS_PROXY/HTTP_PROXY (NO_PROXY: loopback), so any client that
    honours the proxy settings (Go's net/http, requests, azure-core) and aims at a
    non-loopback address, IMDS's 169.254.169.254 included, lands here instead of the network.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                    self.attempts.append(line)
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._socket.close()


@pytest.fixture(scope="session")
def engine() -> Path:
    path = engine_bin()
    assert (path / "pulumi").exists(), f"no pulumi in {path}"
    return path


@pytest.fixture(scope="session")
def forkserver() -> Iterator[str | None]:
    """The socket of this worker's preloaded interpreter (standin/forkserver.py), or None."""
    if os.environ.get(FORKSERVER_ENV) == "0":
        yield None
        return
    with running() as path:
        yield path


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    # ARM asks for seconds between polls; 1 keeps the purge's pollers from their 10 s default.
    with FakeCloud(async_polls=1, retry_after=1) as fake:
        yield fake


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    wire = Tripwire()
    yield wire
    wire.close()
    assert wire.attempts == [], f"a process tried to leave loopback: {wire.attempts}"


@pytest.fixture
def deployer(
    tmp_path: Path, engine: Path, cloud: FakeCloud, tripwire: Tripwire, forkserver: str | None
) -> Iterator[Deployer]:
    """The project copy and its environment; afterwards, no process the scenario started may
    still run (those found are killed, then reported)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, project / name)
    for name in PROJECT_DIRS:
        shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("venv"))
    venv = Path(sys.prefix)
    (project / "venv").symlink_to(venv)  # Pulumi.yaml: virtualenv venv
    backend, home = tmp_path / "state", tmp_path / "pulumi-home"
    backend.mkdir()
    home.mkdir()
    env = {
        "PATH": os.pathsep.join(
            [
                str(HERE / "bin"),
                str(engine),
                str(venv / "bin"),
                "/usr/local/bin",
                "/usr/bin",
                "/bin",
            ]
        ),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PULUMI_HOME": str(home),
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        "DATABRICKS_AZUREML_PYTHON": str(venv / "bin" / "python"),
        # The fake cloud: its CA for every TLS client (Python's ssl, requests, Go), its address
        # as the stand-in for DNS of the workspace URLs.
        "SSL_CERT_FILE": cloud.ca_file,
        "REQUESTS_CA_BUNDLE": cloud.ca_file,
        "DATABRICKS_AZUREML_FAKECLOUD_ADDRESS": cloud.address,
        # The signed-in deployer, as the az stand-in reports it.
        "DATABRICKS_AZUREML_FAKE_SUBSCRIPTION": SUBSCRIPTION,
        "DATABRICKS_AZUREML_FAKE_TENANT": TENANT,
        # DefaultAzureCredential: the Azure CLI only, so no managed-identity probe.
        "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential",
        "HTTPS_PROXY": tripwire.url,
        "HTTP_PROXY": tripwire.url,
        "NO_PROXY": "127.0.0.1,localhost",
        SCENARIO_ENV: str(tmp_path),
    }
    if forkserver:
        env[SOCKET_ENV] = forkserver
    yield Deployer(project, env)
    stray = outliving(str(tmp_path), serving(forkserver) if forkserver else ())
    assert stray == {}, f"processes the scenario started are still running: {stray}"
