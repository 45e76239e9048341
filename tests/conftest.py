"""Shared fixtures: the real program, run once per config under the Pulumi SDK's mocks."""

from __future__ import annotations

import functools
import gc
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, settings

from tests import preloaded
from tests.stacks import DEV, PRIVATE, SECRET_KEYS
from tools.offline import ProgramResult, run_program

# make mutation (pyproject.toml): each mutant reruns the tests on a busy machine, so examples
# are fewer, the same each run, and never too slow.
settings.register_profile(
    "mutation",
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# The files whose tests take longest (`--durations`), collected first: with `make test`'s
# `--dist loadfile` each starts on a worker at once and the many short files fill in beside
# them, instead of one long file starting last and running alone at the end; with `make e2e`'s
# `--dist load --maxschedchunk 1` the longest scenarios start first, side by side.
LONGEST_FIRST = (
    "test_28_default_smoke.py",
    "test_32_private_serverless.py",
    "test_13_smoke.py",
    "test_32_any_compute.py",
    "test_notebook_e2e.py",
    "test_smoke_serverless.py",
    "test_preview.py",
    "test_smoke.py",
    "test_fake_databricks.py",
    "test_policy_program.py",
    "test_smoke_job.py",
    "test_secret_leaks.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist's controller: one notebook and one MLflow-server interpreter for all workers.
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        preloaded.share([preloaded.NOTEBOOK, preloaded.MLFLOW_SERVER])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_collection_finish() -> None:
    # The SDKs the test modules imported stay loaded to the end: out of the collector's reach,
    # full collections do not walk them (half of a program run's CPU under the mocks).
    gc.freeze()


@functools.cache
def _run(raw: frozenset[tuple[str, str]], stack: str, deployed: bool) -> ProgramResult:
    config = dict(raw)
    return run_program(config, stack, deployed=deployed, secret_keys=SECRET_KEYS & config.keys())


def program(raw: Mapping[str, str], stack: str = "dev", *, deployed: bool = True) -> ProgramResult:
    """What `pulumi up` (deployed) or `pulumi preview` would be asked to do for this config.

    Runs are cached by config: tests only read them.
    """
    result = _run(frozenset(raw.items()), stack, deployed)
    assert result.error is None, result.error
    return result


def rejected(raw: Mapping[str, str], stack: str = "dev") -> ProgramResult:
    """A run whose config the program refuses."""
    result = _run(frozenset(raw.items()), stack, True)
    assert result.error is not None
    return result


@pytest.fixture(scope="session")
def dev() -> ProgramResult:
    return program(DEV)


@pytest.fixture(scope="session")
def private() -> ProgramResult:
    return program(PRIVATE)


@pytest.fixture(params=["dev", "private-link"])
def stack(request: pytest.FixtureRequest) -> ProgramResult:
    return program(DEV if request.param == "dev" else PRIVATE)
