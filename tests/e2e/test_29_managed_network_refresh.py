"""Scenario 29: refresh on a private stack behind an approved-only managed network, with both
endpoints, team access, a budget and Databricks private link. Provisioning adds Azure's own
outbound rules and the network's status (tests/fakecloud/arm_managed_network.py); refresh reads
them into the state as azure-native does, and the next preview has nothing to do. `destroy`
leaves nothing."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import SERVING, outputs, stack_with_principal
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e
ACCESS = {"dataScientists": [{"objectId": "aaaaaaaa-1111-2222-3333-444444444444", "type": "Group"}]}
BUDGET = {"amount": 500, "contactEmails": ["finops@contoso.com"]}


def test_refresh_keeps_azures_own_outbound_rules_and_leaves_nothing_to_do(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, "private", serving=SERVING)
    pulumi("config", "set", "databricks-azureml:amlManagedNetwork", "allowOnlyApprovedOutbound")
    pulumi("config", "set", "databricks-azureml:access", json.dumps(ACCESS))
    pulumi("config", "set", "databricks-azureml:budget", json.dumps(BUDGET))
    pulumi("config", "set", "databricks-azureml:databricksPrivateLink", "full")
    pulumi("up", "--yes", "--skip-preview")
    workspace_id = outputs(deployer)["amlWorkspaceId"]
    rules = cloud.arm.get(workspace_id)["properties"]["managedNetwork"]["outboundRules"]
    azures = sorted(name for name, rule in rules.items() if rule["category"] == "Required")
    assert "__SYS_ST_AzureMachineLearning" in azures

    pulumi("refresh", "--yes", "--skip-preview")
    pulumi("preview", "--expect-no-changes")
    # an up after the refresh writes nothing to the workspace: Azure's rules stay
    before = len(cloud.arm.calls())
    pulumi("up", "--yes", "--skip-preview")
    assert [c for c in cloud.arm.calls()[before:] if c.method in ("PUT", "DELETE")] == []
    rules = cloud.arm.get(workspace_id)["properties"]["managedNetwork"]["outboundRules"]
    assert sorted(n for n, r in rules.items() if r["category"] == "Required") == azures

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
