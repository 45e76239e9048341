"""The fork server the e2e plugins run on behaves as `python` would (no engine needed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.standin.forkserver import SOCKET_ENV, running

STANDIN = Path(__file__).resolve().parent / "standin"
PYTHON_SH = str(STANDIN / "python.sh")
PRELOADED = "colorsys"  # something no plain start imports


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running([PRELOADED]) as path:
        yield path


def launch_env(socket_path: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != SOCKET_ENV}
    env.update(DATABRICKS_AZUREML_PYTHON=sys.executable, **extra)
    if socket_path:
        env[SOCKET_ENV] = socket_path
    return env


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "probe.py"
    path.write_text(textwrap.dedent(body))
    return path


PROBE = """
    import os, sys
    print(sys.argv[1:], os.getcwd(), os.environ.get("PROBE"), sys.path[0], flush=True)
    print("preloaded" if "colorsys" in sys.modules else "cold", flush=True)
    sys.stderr.write("to stderr\\n")
    sys.exit(int(sys.stdin.read() or 0))
"""


def test_a_forked_script_gets_argv_environment_directory_stdio_and_exit_code(
    server: str, tmp_path: Path
) -> None:
    probe = script(tmp_path, PROBE)
    workdir = tmp_path / "work"
    workdir.mkdir()
    done = subprocess.run(
        [PYTHON_SH, "-u", str(probe), "a", "b c"], cwd=workdir, input="3",
        env=launch_env(server, PROBE="seen"), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 3
    first, second = done.stdout.splitlines()
    assert first == f"['a', 'b c'] {workdir} seen {tmp_path}"
    assert second == "preloaded"
    assert done.stderr == "to stderr\n"


def test_a_module_runs_as_main_with_the_working_directory_first_on_its_path(
    server: str, tmp_path: Path
) -> None:
    (tmp_path / "probe_module.py").write_text(
        "import sys\nprint(__name__, sys.argv[0].endswith('probe_module.py'), sys.path[0])\n"
    )
    done = subprocess.run(
        [PYTHON_SH, "-u", "-m", "probe_module"], cwd=tmp_path, env=launch_env(server),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["__main__", "True", str(tmp_path)]


def test_without_a_server_python_sh_starts_python_itself(tmp_path: Path) -> None:
    probe = script(tmp_path, PROBE)
    done = subprocess.run(
        [PYTHON_SH, "-u", str(probe)], cwd=tmp_path, input="0", env=launch_env(None),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.splitlines()[1] == "cold"


SLEEPER = """
    import os, sys, time
    try:
        print(os.getpid(), flush=True)  # inside the try: an interrupt may follow at once
        time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(7)
"""


def start_sleeper(server: str, tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    launcher = subprocess.Popen(
        [PYTHON_SH, "-u", str(script(tmp_path, SLEEPER))], env=launch_env(server),
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert launcher.stdout is not None
    return launcher, int(launcher.stdout.readline())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_interrupt_to_the_launcher_reaches_the_child(server: str, tmp_path: Path) -> None:
    launcher, child = start_sleeper(server, tmp_path)
    assert child != launcher.pid
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 7  # the child's own exit code


def test_the_child_dies_with_its_launcher(server: str, tmp_path: Path) -> None:
    launcher, child = start_sleeper(server, tmp_path)
    launcher.kill()
    launcher.wait(timeout=10)
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_process_started_after_share_forks_from_the_shared_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import preloaded

    monkeypatch.setattr(preloaded, "_servers", {})
    monkeypatch.delenv(preloaded.SHARED_ENV, raising=False)
    preloaded.share([(PRELOADED,)])
    try:
        ours = preloaded.launcher_env((PRELOADED,))[SOCKET_ENV]
        asked = (
            "from tests import preloaded; "
            f"print(preloaded.launcher_env(({PRELOADED!r},))[{SOCKET_ENV!r}], "
            "preloaded.launcher_env(('json',))[" + repr(SOCKET_ENV) + "])"
        )
        child = subprocess.run(
            [sys.executable, "-c", asked], cwd=STANDIN.parents[2], env=dict(os.environ),
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        shared, own = child.stdout.split()
        assert shared == ours  # the set shared: the child starts no server of its own for it
        assert own != ours  # another set: its own server, ended with it
    finally:
        for path in preloaded._servers.values():
            subprocess.run(["pkill", "-f", f"serve {path}"], check=False)
