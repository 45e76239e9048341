"""Run the state bootstrap (`bootstrap/__main__.py`) under the SDK's mocks, as tools.offline runs
the main program: same recording monitor and Azure answers, plus the ARM ids of the bootstrap's
own resource types (blob service, container, key)."""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from tools import offline

BOOTSTRAP_DIR = Path(__file__).resolve().parent.parent / "bootstrap"
if str(BOOTSTRAP_DIR) not in sys.path:
    sys.path.insert(0, str(BOOTSTRAP_DIR))

import state_access  # noqa: E402, F401  (bootstrap/, importable once on sys.path; re-exported)
import state_config  # noqa: E402

PROJECT = "databricks-azureml-state"
NS = state_config.NAMESPACE
GROUP_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
CI_ID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
PRINCIPALS = [
    {"objectId": GROUP_ID, "type": "Group"},
    {"objectId": CI_ID, "type": "ServicePrincipal"},
]
TEAM = {"azure-native:location": "westeurope", f"{NS}:principals": json.dumps(PRINCIPALS)}

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
GROUP = "azure-native:resources:ResourceGroup"
KEY_VERSION = "0123456789abcdef0123456789abcdef"  # what Key Vault names the key's first version
ROLE = "azure-native:authorization:RoleAssignment"


def _account_id(inputs: Mapping[str, Any]) -> str:
    return offline.arm_id(ACCOUNT, "", inputs)


class StateMocks(offline.StackMocks):
    """The main stack's Azure answers, and ids for the types only the bootstrap declares."""

    def new_resource(self, args: Any) -> tuple[str | None, dict]:
        if not self.deployed or args.typ not in (BLOB_SERVICE, CONTAINER, KEY):
            return super().new_resource(args)
        inputs = self.transformed(args)
        if args.typ == KEY:
            vault = offline.arm_id(VAULT, "", inputs)
            rid = f"{vault}/keys/{inputs['keyName']}"
            uri = f"https://{inputs['vaultName']}.vault.azure.net/keys/{inputs['keyName']}"
            read = {"keyUri": uri, "keyUriWithVersion": f"{uri}/{KEY_VERSION}"}
            return rid, {**inputs, **read, "id": rid, "name": inputs["keyName"]}
        else:
            service = f"{_account_id(inputs)}/blobServices/default"
            rid = (
                service
                if args.typ == BLOB_SERVICE
                else f"{service}/containers/{inputs['containerName']}"
            )
        return rid, {**inputs, "id": rid, "name": rid.rsplit("/", 1)[-1]}


def run_bootstrap(
    config: Mapping[str, str], stack: str = "team", *, deployed: bool = True
) -> offline.ProgramResult:
    """Run the bootstrap program under mocks; a config error comes back in `error`."""
    from pulumi.runtime.settings import ROOT, SETTINGS, get_root_resource
    from pulumi.runtime.stack import run_pulumi_func

    ROOT.set(None)
    mocks = StateMocks(deployed)
    monitor = offline.RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=not deployed, monitor=monitor
    )
    pulumi.runtime.set_all_config(dict(config), [])
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()

    program = BOOTSTRAP_DIR / "__main__.py"
    error: str | None = None
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    except pulumi.RunError as exc:
        error = str(exc)

    outputs: dict[str, Any] = {}
    root = get_root_resource()
    for key, value in (getattr(root, "outputs", {}) if error is None else {}).items():
        output = pulumi.Output.from_input(value)
        known = _sync_await(output.is_known())
        outputs[key] = _sync_await(output.future()) if known else offline.UNKNOWN
    return offline.ProgramResult(monitor.declared, outputs, set(), error)
