"""Scenario 6: ARM fails in the middle of `pulumi up`; the rerun completes, nothing twice."""

from __future__ import annotations

import pytest

from core import naming
from tests.e2e.conftest import Deployer
from tests.e2e.helpers import arm_names, init_stack, outputs
from tests.fakecloud.arm import SUBSCRIPTION
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def test_fault_mid_up_then_rerun_completes_without_duplicates(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    names = naming.resource_names("mlflow", "dev")
    suffix = naming.unique_suffix(SUBSCRIPTION, names.resource_group, "dev")
    vault = naming.global_names("mlflow", "dev", suffix).key_vault
    vault_id = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{names.resource_group}"
        f"/providers/Microsoft.KeyVault/vaults/{vault}"
    )
    cloud.arm.fail(vault_id, 500, method="PUT", code="InternalServerError", message="try again")
    cloud.arm.fail(vault_id, 409, method="PUT", code="Conflict", message="operation in progress")

    failed = pulumi("up", "--yes", ok=False)
    assert "azureml-kv" in failed.output
    assert "Conflict" in failed.output

    pulumi("up", "--yes")
    created = arm_names(cloud)
    assert len(created) == len(set(created)), "a resource was created twice"
    result = outputs(deployer)
    host = result["databricksWorkspaceUrl"].removeprefix("https://")
    assert list(cloud.databricks.snapshot()[host]["clusters"]) == [result["clusterId"]]
    pulumi("preview", "--expect-no-changes")
