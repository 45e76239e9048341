"""Steps the e2e scenarios share: configuring a stack the README's way, reading what the engine
did."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.e2e.conftest import Deployer
from tests.fakecloud.serve import FakeCloud

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
OBJECT_ID = "66666666-7777-8888-9999-000000000000"
CLIENT_SECRET = "e2e-client-secret-value"


def init_stack(deployer: Deployer, cloud: FakeCloud, stack: str = "dev") -> None:
    """`pulumi stack init` and the README's config lines, plus the cloud: the loopback ARM."""
    pulumi = deployer.pulumi
    pulumi("stack", "init", stack)
    pulumi("config", "set", "azure-native:location", "westeurope")
    pulumi("config", "set", "azure-native:metadataHost", cloud.address)
    if stack == "dev":
        pulumi("config", "set", "--path", "databricks-azureml:tags.cost-center", "data-science")


def set_service_principal(deployer: Deployer) -> None:
    pulumi = deployer.pulumi
    pulumi("config", "set", "--path", "databricks-azureml:servicePrincipal.clientId", CLIENT_ID)
    pulumi("config", "set", "--path", "databricks-azureml:servicePrincipal.objectId", OBJECT_ID)
    pulumi("config", "set", "--secret", "databricks-azureml:servicePrincipalSecret", CLIENT_SECRET)


# The steps of one replacement, as `pulumi up --json` reports them.
REPLACEMENT_STEPS = frozenset({"create-replacement", "replace", "delete-replaced"})


def applied_steps(deployer: Deployer, *extra: str) -> dict[str, str]:
    """`pulumi up --json`: the operation the engine carried out on each resource, by URN; a
    replacement's steps are reported once, as "replace". One program run, where a preview and
    then an update would take two."""
    update = deployer.pulumi("up", "--yes", "--skip-preview", "--json", *extra).stdout
    ops: dict[str, set[str]] = {}
    for line in update.splitlines():
        step = json.loads(line).get("resourcePreEvent", {}).get("metadata")
        if step:
            ops.setdefault(step["urn"], set()).add(step["op"])
    return {urn: _one_op(found) for urn, found in ops.items()}


def _one_op(ops: set[str]) -> str:
    if ops & REPLACEMENT_STEPS:
        return "replace"
    [op] = ops
    return op


def short(urn: str) -> str:
    """`type::name` of a URN, without its parents' types."""
    qualified_type, name = urn.split("::")[-2:]
    return f"{qualified_type.split('$')[-1]}::{name}"


def arm_types(cloud: FakeCloud) -> Counter[str]:
    return Counter(r["type"].lower() for r in cloud.arm.dump()["resources"])


def arm_names(cloud: FakeCloud) -> list[tuple[str, str]]:
    return sorted((r["type"].lower(), r["name"]) for r in cloud.arm.dump()["resources"])


def outputs(deployer: Deployer) -> dict[str, Any]:
    return json.loads(deployer.pulumi("stack", "output", "--json", "--show-secrets").stdout)
