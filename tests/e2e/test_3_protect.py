"""Scenario 3: `protect: true` makes destroy refuse; turned off and applied, destroy succeeds."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import init_stack
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def test_protected_stack_refuses_destroy_until_unprotected(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud)
    pulumi("config", "set", "databricks-azureml:protect", "true")
    pulumi("up", "--yes", "--skip-preview")

    refused = pulumi("destroy", "--yes", ok=False)
    assert "protected" in refused.output
    assert cloud.arm.dump()["resources"], "a refused destroy must leave the stack in place"

    pulumi("config", "set", "databricks-azureml:protect", "false")
    pulumi("up", "--yes", "--skip-preview")
    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
