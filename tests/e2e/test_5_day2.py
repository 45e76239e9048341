"""Scenario 5: day-2 changes on a live stack, and what the engine does to each resource.

Each change is applied with `pulumi up --json`, whose events name the operation per resource;
printed here, they are the table in tests/e2e/README.md. What is planned as update or replace
comes from the engine's diff with the stand-in providers (a name or location change replaces,
anything else updates); the real azure-native provider can replace on more properties.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import (
    applied_steps,
    arm_types,
    init_stack,
    outputs,
    set_service_principal,
    short,
)
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def show(title: str, steps: dict[str, str]) -> None:
    print(f"\n{title}")
    for urn, op in sorted(steps.items(), key=lambda item: short(item[0])):
        if op != "same":
            print(f"  {op:<20} {short(urn)}")


def test_day2_changes_plan_and_apply(deployer: Deployer, cloud: FakeCloud) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("up", "--yes", "--skip-preview")
    before = outputs(deployer)

    # dual -> exclusive (needs the service principal, and registers models in AzureML)
    set_service_principal(deployer)
    pulumi("config", "set", "databricks-azureml:trackingMode", "exclusive")
    steps = applied_steps(deployer)
    show("trackingMode dual -> exclusive", steps)
    ops = {short(urn): op for urn, op in steps.items()}
    assert ops["azure-native:databricks:Workspace::databricks-dbw"] == "update"
    assert ops["databricks:index/cluster:Cluster::tracking-cluster"] == "update"
    after = outputs(deployer)
    assert after["clusterId"] == before["clusterId"]  # edited, not rebuilt
    assert after["trackingMode"] == "exclusive"

    pulumi("config", "set", "databricks-azureml:containerRegistry", "true")
    steps = applied_steps(deployer)
    show("containerRegistry false -> true", steps)
    ops = {short(urn): op for urn, op in steps.items()}
    assert ops["azure-native:containerregistry:Registry::azureml-acr"] == "create"
    assert arm_types(cloud)["microsoft.containerregistry/registries"] == 1

    pulumi("config", "set", "--path", "databricks-azureml:cluster.maxWorkers", "4")
    steps = applied_steps(deployer)
    show("cluster.maxWorkers 2 -> 4", steps)
    ops = {short(urn): op for urn, op in steps.items()}
    assert ops["databricks:index/cluster:Cluster::tracking-cluster"] == "update"
    assert {op for name, op in ops.items() if "cluster:Cluster" not in name} <= {"same"}
    host = after["databricksWorkspaceUrl"].removeprefix("https://")
    cluster = cloud.databricks.snapshot()[host]["clusters"][before["clusterId"]]
    assert cluster["autoscale"]["max_workers"] == 4
    pulumi("preview", "--expect-no-changes")
