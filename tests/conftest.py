"""Shared fixtures: the real program, run once per config under the Pulumi SDK's mocks."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, settings

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
