"""Scenario 31: the private stack with every key target on and the compliance profile (HIPAA):
up through the policy pack, no changes after it, a key rotation picked up, the profile's way
back refused before any write, and a destroy that leaves the user's vault and key alone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.helpers import outputs, stack_with_principal
from tests.fakecloud.arm import SUBSCRIPTION
from tests.fakecloud.arm_cmk_rules import rotate_key
from tests.fakecloud.serve import FakeCloud

pytestmark = pytest.mark.e2e

SECURITY = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/security"
VAULT = f"{SECURITY}/providers/Microsoft.KeyVault/vaults/contoso-cmk"
KEY = f"{VAULT}/keys/workspaces"


def users_vault_and_key(cloud: FakeCloud) -> str:
    """The team's vault (RBAC, soft delete, purge protection) and key; the key's version."""
    cloud.arm.put(SECURITY, {"location": "westeurope"})
    cloud.arm.put(
        VAULT,
        {
            "location": "westeurope",
            "properties": {
                "tenantId": "8d1f3b2a-6c4e-4f7a-9b0d-2e5c7a9f1b3d",
                "sku": {"family": "A", "name": "premium"},
                "enableRbacAuthorization": True,
                "enablePurgeProtection": True,
            },
        },
    )
    cloud.arm.put(KEY, {"properties": {"kty": "RSA", "keySize": 3072}})
    return cloud.arm.get(KEY)["properties"]["keyUriWithVersion"].rsplit("/", 1)[1]


def key_versions(cloud: FakeCloud, result: dict) -> dict[str, str]:
    databricks = cloud.arm.get(result["databricksWorkspaceId"])["properties"]
    entities = databricks["encryption"]["entities"]
    aml = cloud.arm.get(result["amlWorkspaceId"])["properties"]["encryption"]
    return {
        "managedServices": entities["managedServices"]["keyVaultProperties"]["keyVersion"],
        "dbfs": databricks["parameters"]["encryption"]["value"]["keyversion"],
        "azureml": aml["keyVaultProperties"]["keyIdentifier"].rsplit("/", 1)[1],
    }


def test_every_key_target_with_hipaa_deploys_rotates_refuses_the_way_back_and_destroys(
    deployer: Deployer, cloud: FakeCloud
) -> None:
    pulumi = deployer.pulumi
    stack_with_principal(deployer, cloud, "private", policy_pack=True)
    first = users_vault_and_key(cloud)
    pulumi("config", "set", "--path", "databricks-azureml:customerManagedKey.keyVaultId", VAULT)
    pulumi("config", "set", "--path", "databricks-azureml:customerManagedKey.keyName", "workspaces")
    pulumi(
        "config", "set", "--path", "databricks-azureml:databricksCompliance.standards[0]", "HIPAA"
    )
    pulumi("config", "set", "databricks-azureml:requireInfrastructureEncryption", "true")

    pulumi("up", "--yes", "--policy-pack", "policy")
    result = outputs(deployer)
    assert key_versions(cloud, result) == {
        "managedServices": first,
        "dbfs": first,
        "azureml": first,
    }
    databricks = cloud.arm.get(result["databricksWorkspaceId"])["properties"]
    assert databricks["enhancedSecurityCompliance"]["complianceSecurityProfile"] == {
        "value": "Enabled",
        "complianceStandards": ["HIPAA"],
    }
    assert databricks["parameters"]["requireInfrastructureEncryption"]["value"] is True
    host = result["databricksWorkspaceUrl"].removeprefix("https://")
    cluster = cloud.databricks.snapshot()[host]["clusters"][result["clusterId"]]
    assert cluster["node_type_id"] == "Standard_D4ds_v5"

    pulumi("preview", "--expect-no-changes", "--policy-pack", "policy")

    second = rotate_key(cloud.arm.resources, KEY)
    pulumi("up", "--yes", "--skip-preview")
    assert key_versions(cloud, result) == {
        "managedServices": second,
        "dbfs": second,
        "azureml": second,
    }
    pulumi("preview", "--expect-no-changes")

    writes = len(cloud.arm.calls("PUT"))
    pulumi("config", "rm", "databricks-azureml:databricksCompliance")
    refused = pulumi("up", "--yes", ok=False)
    assert "databricks-azureml:databricksCompliance.standards: [] is refused" in refused.output
    assert len(cloud.arm.calls("PUT")) == writes
    pulumi(
        "config", "set", "--path", "databricks-azureml:databricksCompliance.standards[0]", "HIPAA"
    )

    pulumi("destroy", "--yes", "--skip-preview")
    assert cloud.arm.get(VAULT) is not None
    assert cloud.arm.get(KEY)["properties"]["keyUriWithVersion"].endswith(second)
    on_vault = [r["id"] for r in cloud.arm.dump()["resources"] if r["id"].startswith(VAULT)]
    assert on_vault == [VAULT, KEY]  # the stack's role assignments on it are gone
    check = deployer.run(
        "make", "teardown-check", "STACK=private", f"SUBSCRIPTION={SUBSCRIPTION}", ok=None
    )
    assert check.code == 0, check.output
