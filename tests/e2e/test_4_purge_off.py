"""Scenario 4: `purgeOnDestroy: false` leaves the soft-deleted workspace and key vault."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import init_stack
from tests.fakecloud.arm import SUBSCRIPTION
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def teardown_check(deployer: Deployer, stack: str = "dev") -> tuple[int, str]:
    check = deployer.run(
        "make", "teardown-check", f"STACK={stack}", f"SUBSCRIPTION={SUBSCRIPTION}", ok=None
    )
    return check.code, check.output


def up_without_purge(deployer: Deployer, cloud: FakeCloud) -> None:
    init_stack(deployer, cloud)
    deployer.pulumi("config", "set", "databricks-azureml:purgeOnDestroy", "false")
    deployer.pulumi("up", "--yes", "--skip-preview")


def test_purge_off_leaves_soft_deleted_workspace_and_vault(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    up_without_purge(deployer, cloud)
    deployer.pulumi("destroy", "--yes", "--skip-preview")

    dump = cloud.arm.dump()
    assert len(dump["softDeletedWorkspaces"]) == 1
    assert len(dump["deletedVaults"]) == 1
    assert dump["deletedVaults"][0]["properties"]["purgeProtectionEnabled"] is True
    code, output = teardown_check(deployer)
    assert code != 0 and "Error 1" in output, output  # make reports the check's exit 1
    assert dump["softDeletedWorkspaces"][0]["name"] in output
    assert dump["deletedVaults"][0]["name"] in output


def test_purge_turned_on_later_still_destroys_and_names_the_protected_vault(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    up_without_purge(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:purgeOnDestroy", "true")
    pulumi("up", "--yes", "--skip-preview")

    destroyed = pulumi("destroy", "--yes", "--skip-preview")
    vault = cloud.arm.dump()["deletedVaults"][0]
    assert vault["name"] in destroyed.output
    assert vault["properties"]["scheduledPurgeDate"][:10] in destroyed.output
    assert cloud.arm.dump()["softDeletedWorkspaces"] == []  # the workspace was purged
