"""What every smoke step shares: the verdicts, the step errors, the ARM read protocol and the
small readers of SDK values."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PROJECT_DIR = Path(__file__).resolve().parents[2]
NOTEBOOK = Path("notebooks") / "track_with_azureml.py"
PACKAGE = Path("mlflow_setup")
DEFAULT_TIMEOUT = 40 * 60.0  # a cold cluster start plus the notebook's %pip install and run
PROGRESS_EVERY = 15.0  # seconds between progress lines while waiting
CONNECT_TIMEOUT = 10.0
CLOCK_SKEW_MS = 120_000  # a run that started this long before the submit is still ours
PASS, FAIL, SKIP = "pass", "fail", "skipped"

# ARM api-versions of the reads (the ones teardown/ uses for the same resources).
AML_API_VERSION = "2024-04-01"
DATABRICKS_API_VERSION = "2024-05-01"
# Private Endpoints - Get, Microsoft.Network stable (azure-rest-api-specs network 2024-05-01).
NETWORK_API_VERSION = "2024-05-01"
PRIVATE_ENDPOINTS = "Microsoft.Network/privateEndpoints"


class StepError(Exception):
    """The step ran and found the deployment wrong; the message is the reason."""


class NotApplicableError(Exception):
    """The step does not apply to this stack; the message says why."""


class ArmReader(Protocol):
    """The two ARM reads smoke makes (tools.smoke.services.arm_reader wraps arm.client.Arm)."""

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None: ...

    def list_group(self, resource_group: str, resource_type: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str

    def line(self) -> str:
        word = {PASS: "pass", FAIL: "FAIL", SKIP: "skipped"}[self.status]
        return f"{word:<7} {self.name}: {self.detail}"


def run_step(name: str, step: Callable[[], str]) -> StepResult:
    try:
        return StepResult(name, PASS, step())
    except NotApplicableError as skipped:
        return StepResult(name, SKIP, str(skipped))
    except StepError as failed:
        return StepResult(name, FAIL, str(failed))
    except Exception as error:  # an SDK's error: the step failed, and says how
        text = " ".join(str(error).split()) or type(error).__name__
        return StepResult(name, FAIL, f"{type(error).__name__}: {text[:400]}")


def provisioned(resource: dict[str, Any] | None, what: str) -> str:
    if resource is None:
        raise StepError(f"{what} does not exist")
    state = (resource.get("properties") or {}).get("provisioningState")
    if state != "Succeeded":
        raise StepError(f"{what} is {state!r}, not Succeeded")
    return "provisioned"


def connection_states(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    props = endpoint.get("properties") or {}
    connections = (props.get("privateLinkServiceConnections") or []) + (
        props.get("manualPrivateLinkServiceConnections") or []
    )
    return [
        (c.get("properties") or {}).get("privateLinkServiceConnectionState") or {}
        for c in connections
    ]


def state_of(value: Any) -> str:
    """An SDK enum's value (State.RUNNING -> "RUNNING"), or the string itself."""
    return str(getattr(value, "value", value) or "UNKNOWN")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
