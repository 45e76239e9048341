"""`python -m tools.preview ...` as a process of its own, forked from an interpreter that has
imported the Pulumi SDKs once (tests/e2e/standin/forkserver.py, as the e2e plugins are).

Started cold, each such process spent most of its CPU importing pulumi, pulumi_databricks and
the azure-native modules. The child still gets its own argv, environment, working directory and
stdio, imports the project afresh and exits with the program's code (tests/e2e/test_forkserver.py).
One fork server per test process and set of preloaded modules, started at the first call and
ended when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.e2e.standin.forkserver import SOCKET_ENV, running

LAUNCHER = Path(__file__).resolve().parent / "e2e" / "standin" / "python.sh"
_servers: dict[tuple[str, ...], str] = {}


def python(
    *args: str,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    modules: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`python <args>` run to its end with stdout and stderr captured as text, forked from an
    interpreter that imported `modules` (the Pulumi SDKs when none are given)."""
    environment = {**(os.environ if env is None else env), **launcher_env(modules)}
    return subprocess.run(
        [str(LAUNCHER), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def launcher_env(modules: Sequence[str] = ()) -> dict[str, str]:
    """What makes `LAUNCHER <args>` a child forked from an interpreter that imported `modules`
    (the Pulumi SDKs when none are given) instead of `python <args>` started cold."""
    return {SOCKET_ENV: _server(tuple(modules)), "DATABRICKS_AZUREML_PYTHON": sys.executable}


def _server(modules: tuple[str, ...]) -> str:
    if modules not in _servers:
        stack = contextlib.ExitStack()
        _servers[modules] = stack.enter_context(running(modules))
        atexit.register(stack.close)
    return _servers[modules]
