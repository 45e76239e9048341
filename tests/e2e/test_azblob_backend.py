"""The real Pulumi CLI with Azurite (Microsoft's Azure Storage emulator) as its `azblob://` backend.

The recipe the team backend relies on, proven locally: `pulumi login azblob://<container>?...`
against a blob endpoint on 127.0.0.1, `pulumi stack init`, an update, `pulumi stack output` read
by a second process, `destroy`, `stack rm`. gocloud.dev's azureblob driver takes the emulator's
address from the URL (`domain=127.0.0.1:<port>&protocol=http`: a domain starting with 127.0.0.1
puts the account in the path, as Azurite expects) and signs with a shared key from
AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY (Azurite's well-known development account). On Azure,
the same backend signs in with Entra ID instead (bootstrap/README.md).

Needs: the engine (DATABRICKS_AZUREML_ENGINE_BIN, or tests/e2e/engine/build.sh's cached build),
Node, and Azurite installed once outside the repository (`make azurite`). The up/destroy test
also needs a Python language host on PATH (tests/e2e/bin's stand-in, or the engine's own).
Each part skips, saying why, when what it needs is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakecloud.local_mlflow import free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "databricks-azureml"
AZURITE = CACHE / "azurite" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key (learn.microsoft.com/azure/storage/common/storage-use-azurite)
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONTAINER = "pulumi-state"
PROJECT = "azblob-e2e"
TIMEOUT = 300


def engine_bin() -> Path | None:
    """The folder holding the `pulumi` binary, or None when it has not been built."""
    configured = os.environ.get("DATABRICKS_AZUREML_ENGINE_BIN")
    if configured:
        return Path(configured)
    version = (REPO / ".pulumi-version").read_text().strip()
    built = CACHE / "engine" / f"v{version}" / "bin"
    return built if (built / "pulumi").is_file() else None


def wait_for_port(port: int, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"azurite exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"azurite did not listen on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def engine() -> Path:
    bin_dir = engine_bin()
    if bin_dir is None:
        pytest.skip("the Pulumi engine is not built (tests/e2e/engine/build.sh)")
    return bin_dir


@pytest.fixture(scope="module")
def azurite(engine: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Azurite's blob service on a free loopback port, with the state container; its port.
    One per module: each test uses its own stack."""
    tmp_path = tmp_path_factory.mktemp("azurite")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not AZURITE.is_file():
        pytest.skip("azurite is not installed: make azurite")
    port = free_port()
    log = (tmp_path / "azurite.log").open("w")
    process = subprocess.Popen(
        [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--location", str(tmp_path / "azurite"), "--skipApiVersionCheck", "--loose",
         "--disableProductStyleUrl"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, process, time.monotonic() + 60)
        create_container(port)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def create_container(port: int) -> None:
    """The bootstrap creates the container on Azure; here the emulator's SDK client does."""
    from azure.storage.blob import BlobServiceClient

    url = f"http://127.0.0.1:{port}/{ACCOUNT}"
    client = BlobServiceClient(
        url, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}
    )
    client.create_container(CONTAINER)


def blob_names(port: int) -> list[str]:
    from azure.storage.blob import BlobServiceClient

    url = f"http://127.0.0.1:{port}/{ACCOUNT}"
    client = BlobServiceClient(
        url, credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}
    )
    return [blob.name for blob in client.get_container_client(CONTAINER).list_blobs()]


def backend_url(port: int) -> str:
    return f"azblob://{CONTAINER}?storage_account={ACCOUNT}&domain=127.0.0.1:{port}&protocol=http"


class Cli:
    """The Pulumi CLI in a throwaway project, PULUMI_HOME and environment (nothing of the
    caller's Azure or Pulumi login)."""

    def __init__(self, bin_dir: Path, project: Path, home: Path) -> None:
        self.bin_dir = bin_dir
        self.project = project
        venv = Path(sys.prefix)
        stand_ins = REPO / "tests" / "e2e" / "bin"  # the engine's language host stand-in, if any
        self.env = {
            "PATH": os.pathsep.join(
                [
                    str(stand_ins),
                    str(bin_dir),
                    str(venv / "bin"),
                    "/usr/local/bin",
                    "/usr/bin",
                    "/bin",
                ]
            ),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PULUMI_HOME": str(home / ".pulumi"),
            "PULUMI_CONFIG_PASSPHRASE": "azblob-e2e",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
            "DATABRICKS_AZUREML_PYTHON": str(venv / "bin" / "python"),
            "AZURE_STORAGE_ACCOUNT": ACCOUNT,
            "AZURE_STORAGE_KEY": ACCOUNT_KEY,
        }

    def another_process(self, backend: str) -> Cli:
        """A second CLI on the same project, with its own PULUMI_HOME, logged in to `backend`."""
        home = self.project.parent / "other-home"
        home.mkdir(exist_ok=True)
        other = Cli(self.bin_dir, self.project, home)
        other.run("login", backend)
        return other

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.project, env=self.env, capture_output=True, text=True, timeout=TIMEOUT,
            check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result


@pytest.fixture
def cli(engine: Path, azurite: int, tmp_path: Path) -> Cli:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        f"name: {PROJECT}\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    (project / "__main__.py").write_text(
        "import pulumi\n\n"
        'pulumi.export("greeting", "hello from azblob")\n'
        'pulumi.export("token", pulumi.Output.secret("s3cr3t"))\n'
    )
    (project / "venv").symlink_to(Path(sys.prefix))
    home = tmp_path / "home"
    home.mkdir()
    cli = Cli(engine, project, home)
    cli.run("login", backend_url(azurite))
    return cli


def test_login_stack_init_and_state_blobs_live_in_the_container(cli, azurite):
    stack = "init"
    assert backend_url(azurite) in cli.run("whoami", "--verbose").stdout
    cli.run("stack", "init", stack)
    assert any(name.endswith(f"{PROJECT}/{stack}.json") for name in blob_names(azurite))
    assert stack in cli.run("stack", "ls").stdout
    cli.run("stack", "rm", stack, "--yes")
    assert not any(name.endswith(f"{PROJECT}/{stack}.json") for name in blob_names(azurite))


def test_state_written_by_one_process_is_read_by_another(cli, azurite):
    """A checkpoint imported (written) by one CLI process, its outputs read by a second one with
    its own PULUMI_HOME: what a teammate or CI sees after someone else's update."""
    stack = "imported"
    cli.run("stack", "init", stack)
    deployment = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": ""},
            "resources": [
                {
                    "urn": f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}",
                    "custom": False,
                    "type": "pulumi:pulumi:Stack",
                    "outputs": {"greeting": "hello from azblob"},
                }
            ],
        },
    }
    checkpoint = cli.project / "checkpoint.json"
    checkpoint.write_text(json.dumps(deployment))
    cli.run("stack", "import", "--file", str(checkpoint))

    other = cli.another_process(backend_url(azurite))
    read = other.run("stack", "output", "greeting", "--stack", stack)
    assert read.stdout.strip() == "hello from azblob"
    cli.run("stack", "rm", stack, "--yes", "--force")


def test_up_output_from_a_second_process_and_destroy(cli, azurite):
    if shutil.which("pulumi-language-python", path=cli.env["PATH"]) is None:
        pytest.skip("no pulumi-language-python on PATH (the engine build or its stand-in)")
    stack = "deployed"
    cli.run("stack", "init", stack)
    cli.run("up", "--yes", "--skip-preview")

    other = cli.another_process(backend_url(azurite))
    assert other.run("stack", "output", "greeting", "--stack", stack).stdout.strip() == (
        "hello from azblob"
    )
    shown = other.run("stack", "output", "--json", "--stack", stack).stdout
    assert json.loads(shown)["token"] == "[secret]"

    cli.run("destroy", "--yes", "--skip-preview")
    cli.run("stack", "rm", stack, "--yes")
    assert not any(name.endswith(f"{PROJECT}/{stack}.json") for name in blob_names(azurite))
