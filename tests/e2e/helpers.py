"""Steps the e2e scenarios share: configuring a stack the README's way, reading what the engine
did."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from tests.e2e.conftest import Deployer
from tests.fakecloud.serve import FakeCloud

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
OBJECT_ID = "66666666-7777-8888-9999-000000000000"
CLIENT_SECRET = "e2e-client-secret-value"
NAMESPACE = "databricks-azureml"
MODEL = "track-with-azureml-classifier"  # what the example notebook registers
SERVING = ("endpoint", "batchEndpoint")


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


def set_config(deployer: Deployer, values: Mapping[str, str], *, path: bool = False) -> None:
    """`pulumi config set [--path] databricks-azureml:<key> <value>`, one line per key."""
    for key, value in values.items():
        deployer.pulumi("config", "set", *(["--path"] if path else []), f"{NAMESPACE}:{key}", value)


def serve(deployer: Deployer, *keys: str, version: str = "1") -> None:
    """The notebook's model at `version` under each serving key (`endpoint`, `batchEndpoint`)."""
    for key in keys:
        set_config(deployer, {f"{key}.model": MODEL, f"{key}.version": version}, path=True)


def stack_with_principal(
    deployer: Deployer,
    cloud: FakeCloud,
    stack: str = "dev",
    *,
    registry: str | None = None,
    serving: tuple[str, ...] = (),
    policy_pack: bool = False,
) -> None:
    """`init_stack` and the service principal; `modelRegistry` when given, the notebook's model
    (version 1) under each `serving` key, and the policy pack's virtualenv when asked."""
    init_stack(deployer, cloud, stack)
    set_service_principal(deployer)
    if registry:
        set_config(deployer, {"modelRegistry": registry})
    serve(deployer, *serving)
    if policy_pack:
        policy_venv(deployer)


def up_with_online_endpoint(deployer: Deployer, cloud: FakeCloud) -> None:
    """A stack that serves the notebook's model from an online endpoint (with the AzureML
    registry), deployed."""
    stack_with_principal(deployer, cloud, registry="azureml", serving=("endpoint",))
    deployer.pulumi("up", "--yes", "--skip-preview")


def policy_venv(deployer: Deployer) -> None:
    """The pack's own virtualenv (README: python -m venv policy/venv), here the project's."""
    (deployer.workdir / "policy" / "venv").symlink_to(deployer.workdir / "venv")


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


def replaced_in_order(cloud: FakeCloud, since: int, endpoint_id: str, old: str, new: str) -> bool:
    """Among the ARM calls since `since`: the new deployment's PUT, then the endpoint's PUT (its
    traffic or default moved), then the old deployment's DELETE."""
    calls = [(c.method, c.path.lower()) for c in cloud.arm.calls()[since:]]
    path = endpoint_id.lower()
    created = calls.index(("PUT", f"{path}/deployments/{new}".lower()))
    moved = calls.index(("PUT", path), created)
    deleted = calls.index(("DELETE", f"{path}/deployments/{old}".lower()))
    return created < moved < deleted


def short(urn: str) -> str:
    """`type::name` of a URN, without its parents' types."""
    qualified_type, name = urn.split("::")[-2:]
    return f"{qualified_type.split('$')[-1]}::{name}"


def of_type(cloud: FakeCloud, kind: str) -> list[dict[str, Any]]:
    """The fake ARM's resources of one type (lower case)."""
    return [r for r in cloud.arm.dump()["resources"] if r["type"].lower() == kind]


def one_of_type(cloud: FakeCloud, kind: str) -> dict[str, Any]:
    [found] = of_type(cloud, kind)
    return found


def arm_types(cloud: FakeCloud) -> Counter[str]:
    return Counter(r["type"].lower() for r in cloud.arm.dump()["resources"])


def arm_names(cloud: FakeCloud) -> list[tuple[str, str]]:
    return sorted((r["type"].lower(), r["name"]) for r in cloud.arm.dump()["resources"])


def outputs(deployer: Deployer) -> dict[str, Any]:
    return json.loads(deployer.pulumi("stack", "output", "--json", "--show-secrets").stdout)
