"""Scenario 20: day 2 on a protected stack with an online endpoint, a batch endpoint, team
access, a budget and diagnostics. The locks sit on the Databricks workspace, the storage
account and the key vault (the AzureML workspace holds the batch cluster, so it stays unlocked):
an online version bump and a reader's removal apply; turning diagnostics off is refused by the
preview before any write; a batch job leaves the cluster back at zero nodes; unprotected, the
stack is destroyed with nothing left."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import SERVING, of_type, stack_with_principal
from tests.fakecloud.serve import FakeCloud
from tests.test_enterprise_controls import ACCESS
from tests.test_enterprise_controls import AUDITOR as READER
from tests.test_enterprise_controls import SCIENTISTS as SCIENTIST

pytestmark = pytest.mark.e2e

LOCK_PATH = "/providers/microsoft.authorization/locks/"
BUDGET = {"amount": 500, "contactEmails": ["finops@contoso.com"]}
ONLINE_DEPLOYMENTS = "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments"
COMPUTES = "microsoft.machinelearningservices/workspaces/computes"


def _writes(cloud: FakeCloud, since: int) -> list[str]:
    return [f"{c.method} {c.path}" for c in cloud.arm.calls()[since:] if c.method != "GET"]


def _principals(cloud: FakeCloud) -> set[str]:
    assignments = [
        r for r in cloud.arm.dump()["resources"] if "/roleassignments/" in r["id"].lower()
    ]
    return {a["properties"]["principalId"] for a in assignments}


def test_day_2_on_a_protected_stack_applies_or_is_refused_up_front(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, registry="azureml", serving=SERVING)
    pulumi("config", "set", "databricks-azureml:protect", "true")
    pulumi("config", "set", "databricks-azureml:access", json.dumps(ACCESS))
    pulumi("config", "set", "databricks-azureml:budget", json.dumps(BUDGET))
    pulumi("up", "--yes", "--skip-preview")

    state = cloud.arm.dump()["resources"]
    locked = sorted(
        r["id"].lower().split(LOCK_PATH)[0].split("/providers/")[1].rsplit("/", 1)[0]
        for r in state
        if LOCK_PATH in r["id"].lower()
    )
    assert locked == [
        "microsoft.databricks/workspaces",
        "microsoft.keyvault/vaults",
        "microsoft.storage/storageaccounts",
    ]

    # an online version bump: the old deployment goes (the workspace is not locked)
    [v1] = [d["name"] for d in of_type(cloud, ONLINE_DEPLOYMENTS)]
    pulumi("config", "set", "--path", "databricks-azureml:endpoint.version", "2")
    pulumi("up", "--yes", "--skip-preview")
    [v2] = [d["name"] for d in of_type(cloud, ONLINE_DEPLOYMENTS)]
    assert v2 != v1 and v2.startswith("v2-")

    # removing a reader: Reader is on the group, which carries no lock
    assert READER in _principals(cloud)
    pulumi(
        "config",
        "set",
        "databricks-azureml:access",
        json.dumps({"dataScientists": ACCESS["dataScientists"]}),
    )
    pulumi("up", "--yes", "--skip-preview")
    assert READER not in _principals(cloud)
    assert SCIENTIST in _principals(cloud)

    # diagnostics off: their settings are beneath the locks, so the preview refuses it
    pulumi("config", "set", "--path", "databricks-azureml:diagnostics.enabled", "false")
    before = len(cloud.arm.calls())
    refused = pulumi("preview", ok=False)
    assert "databricks-azureml:protect: this update would delete" in refused.output
    assert "pulumi config set databricks-azureml:protect false" in refused.output
    refused = pulumi("up", "--yes", "--skip-preview", ok=False)
    assert "databricks-azureml:protect: this update would delete" in refused.output
    assert _writes(cloud, before) == []
    pulumi("config", "set", "--path", "databricks-azureml:diagnostics.enabled", "true")

    # a batch job: nodes come and go, nothing keeps them
    [compute] = of_type(cloud, COMPUTES)
    job = cloud.arm.run_batch_job(compute["id"], nodes=2)
    assert job["status"] == "Completed"
    assert job["compute"]["properties"]["properties"]["currentNodeCount"] == 0
    assert job["compute"]["properties"]["properties"]["errors"] == []

    # unprotect (removes the locks), then destroy
    pulumi("config", "set", "databricks-azureml:protect", "false")
    pulumi("up", "--yes", "--skip-preview")
    assert [r for r in cloud.arm.dump()["resources"] if LOCK_PATH in r["id"].lower()] == []
    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.dump()["resources"] == []
