"""Scenario 14: the shipped private stack, its secret set but its placeholder ids left in:
`pulumi up` refuses before anything is created and says what to run; no secret in the output."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import CLIENT_SECRET, arm_names, init_stack
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e


def test_up_refuses_the_private_stack_files_placeholder_ids(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    init_stack(deployer, cloud, "private")
    pulumi("config", "set", "--secret", "databricks-azureml:servicePrincipalSecret", CLIENT_SECRET)

    refused = pulumi("up", "--yes", "--skip-preview", ok=False)

    assert (
        "databricks-azureml:servicePrincipal.clientId: 00000000-0000-0000-0000-000000000000 is "
        "the stack file's placeholder, which cannot be deployed; run: pulumi config set --path "
        "databricks-azureml:servicePrincipal.clientId <appId>"
    ) in refused.output
    assert "Traceback" not in refused.output
    assert CLIENT_SECRET not in refused.output
    assert arm_names(cloud) == []
