"""The policy that a stack with Databricks' compliance security profile has customer-managed keys
on every target: over the real program and over resources edited to break it."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from tests.conftest import program
from tests.stacks import DEV, with_values

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

import guard_rules as rules  # noqa: E402

VAULT_ID = (
    "/subscriptions/3f2a8c71-5d4e-4b9a-9c1f-7e6d5a4b3c21/resourceGroups/security/providers/"
    "Microsoft.KeyVault/vaults/contoso-cmk"
)
HIPAA = {"standards": ["HIPAA"]}


def declared(raw: dict, *, drop: str = "") -> list:
    run = program(raw)
    return [
        rules.Declared(r.type, r.name, copy.deepcopy(r.outputs), r.urn, tuple(r.depends_on))
        for r in run.resources
        if not (drop and drop in r.name)
    ]


def compliant() -> dict:
    return with_values(
        DEV,
        databricksCompliance=HIPAA,
        customerManagedKey={"keyVaultId": VAULT_ID, "keyName": "workspaces"},
    )


def test_compliance_stack_with_keys_on_every_target_passes():
    assert rules.compliance_has_customer_managed_keys(declared(compliant())) == []


def test_stack_without_the_profile_needs_no_keys():
    assert rules.compliance_has_customer_managed_keys(declared(DEV)) == []


def test_compliance_stack_without_any_key_is_refused_for_both_workspaces():
    found = rules.compliance_has_customer_managed_keys(
        declared(with_values(DEV, databricksCompliance=HIPAA))
    )
    messages = sorted(v.message for v in found)
    assert len(messages) == 2
    assert messages[0].startswith(
        "AzureML workspace 'azureml-mlw' is in a stack with the compliance"
    )
    assert messages[1].startswith("Databricks workspace 'databricks-dbw'")
    assert "no managedServices key" in messages[1]
    assert "no managedDisk key" in messages[1]
    assert "no DBFS root key" in messages[1]


def test_compliance_stack_with_azureml_opted_out_is_refused_for_azureml():
    raw = with_values(
        DEV,
        databricksCompliance=HIPAA,
        customerManagedKey={"keyVaultId": VAULT_ID, "keyName": "workspaces", "azureml": False},
    )
    [violation] = rules.compliance_has_customer_managed_keys(declared(raw))
    assert "AzureML workspace 'azureml-mlw'" in violation.message
    assert "expected customerManagedKey with azureml true" in violation.message


def test_compliance_stack_without_the_dbfs_step_is_refused():
    [violation] = rules.compliance_has_customer_managed_keys(declared(compliant(), drop="dbfs-key"))
    assert "no DBFS root key" in violation.message


def test_compliance_stack_without_the_disk_key_is_refused():
    resources = declared(compliant())
    workspace = next(r for r in resources if r.resource_type == rules.DATABRICKS_WORKSPACE)
    del workspace.props["encryption"]["entities"]["managedDisk"]
    [violation] = rules.compliance_has_customer_managed_keys(resources)
    assert "no managedDisk key" in violation.message
    assert "managedServices" not in violation.message
