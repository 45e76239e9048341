"""Config of customer-managed keys, infrastructure encryption and the compliance profile."""

import pytest

from core.config import parse_config
from core.errors import ConfigError
from tests.stacks import DEV, SECRET_KEYS, with_values

VAULT_ID = (
    "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21/resourceGroups/security/providers/"
    "Microsoft.KeyVault/vaults/contoso-cmk"
)
CMK = {"keyVaultId": VAULT_ID, "keyName": "workspaces"}


def rejected(raw: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "dev", SECRET_KEYS)
    return str(caught.value)


def test_customer_managed_key_reads_vault_key_and_follows_the_latest_version():
    key = parse_config(with_values(DEV, customerManagedKey=CMK), "dev").customer_managed_key
    assert key is not None
    assert (key.key_vault_resource_group, key.key_vault_name) == ("security", "contoso-cmk")
    assert (key.key_name, key.key_version, key.disk_key_name) == ("workspaces", None, "workspaces")
    assert key.azureml is True


def test_customer_managed_key_takes_a_pinned_version_and_a_separate_disk_key():
    given = {**CMK, "keyVersion": "0123456789ABCDEF0123456789abcdef", "managedDiskKeyName": "disks"}
    key = parse_config(with_values(DEV, customerManagedKey=given), "dev").customer_managed_key
    assert key.key_version == "0123456789abcdef0123456789abcdef"
    assert key.disk_key_name == "disks"


def test_customer_managed_key_refuses_an_id_that_is_not_a_key_vault():
    storage = VAULT_ID.replace("Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts")
    message = rejected(with_values(DEV, customerManagedKey={**CMK, "keyVaultId": storage}))
    assert message.startswith("databricks-azureml:customerManagedKey.keyVaultId:")
    assert "is not a key vault's ARM id" in message


def test_customer_managed_key_refuses_a_missing_key_name():
    message = rejected(with_values(DEV, customerManagedKey={"keyVaultId": VAULT_ID}))
    assert message.startswith("databricks-azureml:customerManagedKey.keyName:")
    assert "is required" in message


def test_customer_managed_key_refuses_a_version_that_is_not_32_hex_digits():
    message = rejected(with_values(DEV, customerManagedKey={**CMK, "keyVersion": "latest"}))
    assert message.startswith("databricks-azureml:customerManagedKey.keyVersion:")
    assert "is not a key version (32 hex digits)" in message


def test_customer_managed_key_refuses_an_unknown_field():
    message = rejected(with_values(DEV, customerManagedKey={**CMK, "keyUri": "https://x"}))
    assert "customerManagedKey.keyUri" in message
    assert "unknown key" in message


def test_infrastructure_encryption_is_off_unless_set():
    assert parse_config(DEV, "dev").require_infrastructure_encryption is False
    raw = with_values(DEV, requireInfrastructureEncryption=True)
    assert parse_config(raw, "dev").require_infrastructure_encryption is True


def test_compliance_standards_turn_on_the_profile_monitoring_and_cluster_update():
    raw = with_values(DEV, databricksCompliance={"standards": ["HIPAA", "PCI_DSS"]})
    spec = parse_config(raw, "dev").databricks_compliance
    assert spec.profile is True
    assert spec.standards == ("HIPAA", "PCI_DSS")
    assert (spec.enhanced_security_monitoring, spec.automatic_cluster_update) == (True, True)


def test_compliance_without_standards_leaves_the_profile_off():
    raw = with_values(DEV, databricksCompliance={"enhancedSecurityMonitoring": True})
    spec = parse_config(raw, "dev").databricks_compliance
    assert spec.profile is False
    assert (spec.enhanced_security_monitoring, spec.automatic_cluster_update) == (True, False)


@pytest.mark.parametrize("key", ["enhancedSecurityMonitoring", "automaticClusterUpdate"])
def test_compliance_profile_refuses_turning_off_what_it_requires(key):
    message = rejected(with_values(DEV, databricksCompliance={"standards": ["HIPAA"], key: False}))
    assert message.startswith(f"databricks-azureml:databricksCompliance.{key}: false")
    assert "cannot be false with the compliance security profile" in message


def test_compliance_refuses_an_unknown_standard():
    message = rejected(with_values(DEV, databricksCompliance={"standards": ["SOX"]}))
    assert message.startswith("databricks-azureml:databricksCompliance.standards:")
    assert "allowed: HIPAA, PCI_DSS" in message


def test_compliance_profile_moves_the_default_cluster_to_an_allowed_vm_family():
    raw = with_values(DEV, databricksCompliance={"standards": ["HIPAA"]})
    assert parse_config(raw, "dev").cluster.node_type == "Standard_D4ds_v5"
    assert parse_config(DEV, "dev").cluster.node_type == "Standard_DS3_v2"


def test_compliance_profile_refuses_a_vm_family_it_cannot_start():
    raw = with_values(
        DEV,
        databricksCompliance={"standards": ["HIPAA"]},
        cluster={"nodeType": "Standard_DS3_v2"},
    )
    message = rejected(raw)
    assert message.startswith("databricks-azureml:cluster.nodeType: Standard_DS3_v2")
    assert "compliance security profile" in message


@pytest.mark.parametrize("size", ["Standard_D8s_v5", "Standard_D4ads_v6", "Standard_D16ds_v5"])
def test_compliance_profile_accepts_the_families_learn_lists(size):
    raw = with_values(
        DEV, databricksCompliance={"standards": ["HIPAA"]}, cluster={"nodeType": size}
    )
    assert parse_config(raw, "dev").cluster.node_type == size
