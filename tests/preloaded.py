"""`python -m tools.preview ...` as a process of its own, forked from an interpreter that has
imported the Pulumi SDKs once (tests/e2e/standin/forkserver.py, as the e2e plugins are).

Started cold, each such process spent most of its CPU importing pulumi, pulumi_databricks and
the azure-native modules. The child still gets its own argv, environment, working directory and
stdio, imports the project afresh and exits with the program's code (tests/e2e/test_forkserver.py).
One fork server per test process and set of preloaded modules, started at the first call and
ended when the process exits; under pytest-xdist the notebook's and the MLflow server's are
started once by the controller for every worker (`share`, tests/conftest.py).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.e2e.standin.forkserver import SOCKET_ENV, running

LAUNCHER = Path(__file__).resolve().parent / "e2e" / "standin" / "python.sh"
# What the example notebook and mlflow_setup import (tests/fakecloud/notebook_runner.py): each
# notebook run forks from an interpreter that imported them once.
NOTEBOOK = (
    "pandas",
    "sklearn.datasets",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "mlflow",
    "mlflow.models",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "azureml.mlflow",
    "pyspark.sql",
    "databricks.sdk",
    "azure.identity",
)
# What a loopback MLflow server imports that reads no setting on import
# (tests/fakecloud/local_mlflow.py). mlflow.server is imported by each server itself, as it
# builds its app from the settings in its own environment.
MLFLOW_SERVER = (
    "uvicorn",
    "fastapi",
    "flask",
    "sqlalchemy",
    "alembic.runtime.migration",
    "pandas",
    "mlflow",
    "mlflow.tracking",
    "mlflow.artifacts",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
)
# Servers another process started for this one and its siblings: {"<modules>": socket}.
SHARED_ENV = "DATABRICKS_AZUREML_PRELOADED"
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


def share(sets: Sequence[Sequence[str]]) -> None:
    """Start a server for each set of modules here and name them in the environment, so that
    the processes started from here on (pytest-xdist's workers) fork from these instead of each
    preloading its own (2 to 4 CPU-s a server). They end when this process does."""
    shared = {" ".join(modules): _server(tuple(modules)) for modules in sets}
    os.environ[SHARED_ENV] = json.dumps(shared)


def _server(modules: tuple[str, ...]) -> str:
    if modules not in _servers:
        shared = json.loads(os.environ.get(SHARED_ENV) or "{}").get(" ".join(modules))
        if shared and os.path.exists(shared):
            _servers[modules] = shared
            return shared
        stack = contextlib.ExitStack()
        _servers[modules] = stack.enter_context(running(modules))
        atexit.register(stack.close)
    return _servers[modules]
