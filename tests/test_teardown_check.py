"""The leftover check (python -m teardown.check) against a local HTTPS server that plays ARM."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from arm import client as arm
from arm.cloud import CloudConfig
from core.naming import (
    global_names,
    resource_group_name,
    resource_names,
    unique_suffix,
)
from teardown import check
from tests.fakecloud.arm import SUBSCRIPTION, TENANT, FakeArm
from tests.test_teardown_arm import FailingCredential, arm_for

ROOT = Path(__file__).resolve().parent.parent
DELETED_WORKSPACES = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/deletedWorkspaces"
)


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  azure-native:location: westeurope\n"
        "  databricks-azureml:servicePrincipalSecret:\n"
        "    secure: AAABAKd0c2VjcmV0\n"
    )
    return tmp_path


@dataclass(frozen=True)
class Names:
    resource_group: str
    managed_resource_group: str
    aml_workspace: str
    key_vault: str


def names_for(prefix: str = "mlflow", stack: str = "dev") -> Names:
    group = resource_group_name(prefix, stack)
    local = resource_names(prefix, stack)
    vault = global_names(prefix, stack, unique_suffix(SUBSCRIPTION, group, stack)).key_vault
    return Names(local.resource_group, local.managed_resource_group, local.aml_workspace, vault)


def group_path(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"


def leave(
    fake: FakeArm,
    names: Names,
    location: str = "westeurope",
    *,
    group: bool = False,
    managed_group: bool = False,
    workspace: bool = False,
    vault: bool = False,
    **vault_properties: object,
) -> None:
    """What a destroy left behind, made the way Azure makes it; each flag leaves that thing."""
    if workspace or vault:
        fake.put(group_path(names.resource_group), {"location": location})
    if workspace:
        workspace_id = arm.resource_id(
            SUBSCRIPTION, names.resource_group, arm.AML_WORKSPACES, names.aml_workspace
        )
        fake.put(workspace_id, {"location": location, "properties": {}})
        fake.request("DELETE", workspace_id)  # without forceToPurge: soft-deleted
    if vault:
        vault_id = arm.resource_id(
            SUBSCRIPTION, names.resource_group, arm.KEY_VAULTS, names.key_vault
        )
        properties = {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}}
        fake.put(vault_id, {"location": location, "properties": {**properties, **vault_properties}})
        fake.request("DELETE", vault_id)
    fake.finish_operations()
    if group:
        fake.put(group_path(names.resource_group), {"location": location})
        fake.resources[group_path(names.resource_group).lower()]["properties"] = {
            "provisioningState": "Deleting"
        }
    elif workspace or vault:
        fake.resources.pop(group_path(names.resource_group).lower())
    if managed_group:
        fake.put(group_path(names.managed_resource_group), {"location": location})


def run(fake: FakeArm, *argv: str, credential=None, environ=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def client(subscription_id: str, _cloud: CloudConfig) -> arm.Arm:
        assert subscription_id == SUBSCRIPTION
        return arm_for(fake, credential)

    code = check.main(
        list(argv),
        client_factory=client,
        environ={"AZURE_SUBSCRIPTION_ID": SUBSCRIPTION} if environ is None else environ,
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def arm_requests(fake: FakeArm) -> list[str]:
    """The ARM paths asked for, lower-cased (ARM ids are case-insensitive)."""
    return [r.path.lower() for r in fake.requests if r.path != "/metadata/endpoints"]


def test_clean_subscription_prints_clean_and_exits_0(fake, project):
    names = names_for()
    leave(fake, names)

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert (code, out, err) == (0, "clean\n", "")
    assert arm_requests(fake) == [
        path.lower()
        for path in (
            group_path("mlflow-dev-rg"),
            group_path("mlflow-dev-databricks-managed-rg"),
            DELETED_WORKSPACES,
            arm.deleted_key_vault_id(SUBSCRIPTION, "westeurope", names.key_vault),
        )
    ]


def test_every_leftover_is_listed_on_its_own_line_and_exits_1(fake, project):
    names = names_for()
    leave(fake, names, group=True, managed_group=True, workspace=True, vault=True)

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    lines = out.splitlines()
    assert code == 1 and err == ""
    assert len(lines) == 4
    assert lines[0] == "resource group mlflow-dev-rg still exists (Deleting)"
    assert (
        lines[1]
        == "Databricks managed resource group mlflow-dev-databricks-managed-rg still exists"
    )
    assert lines[2].startswith("AzureML workspace mlflow-dev-mlw (resource group mlflow-dev-rg)")
    assert "soft-deleted" in lines[2]
    assert lines[3].startswith(f"key vault {names.key_vault} is deleted but not purged")
    assert f"az keyvault purge --name {names.key_vault} --location westeurope" in lines[3]
    assert "clean" not in out


def test_a_purge_protected_vault_is_named_with_the_date_it_frees_its_name(fake, project):
    names = names_for()
    leave(fake, names, vault=True, enablePurgeProtection=True)

    code, out, _ = run(fake, "--stack", "dev", "--project-dir", str(project))

    purge_date = fake.deleted_vaults[names.key_vault]["properties"]["scheduledPurgeDate"][:10]
    assert code == 1
    assert out.startswith(f"key vault {names.key_vault} is deleted with purge protection")
    assert purge_date in out
    assert "az keyvault purge" not in out  # it would fail


def test_a_leftover_managed_resource_group_after_a_plain_databricks_delete_is_flagged(
    fake, project
):
    names = names_for()
    fake.put(group_path(names.resource_group), {"location": "westeurope"})
    workspace_id = arm.resource_id(
        SUBSCRIPTION, names.resource_group, arm.DATABRICKS_WORKSPACES, "mlflow-dev-dbw"
    )
    fake.put(
        workspace_id,
        {
            "location": "westeurope",
            "properties": {"managedResourceGroupId": group_path(names.managed_resource_group)},
        },
    )
    fake.request("DELETE", group_path(names.resource_group))  # no forceDeletion anywhere
    fake.finish_operations()

    code, out, _ = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 1
    assert out == (
        "Databricks managed resource group mlflow-dev-databricks-managed-rg still exists\n"
    )


def test_a_soft_deleted_workspace_of_another_resource_group_is_not_a_leftover(fake, project):
    names = names_for()
    other = arm.resource_id(SUBSCRIPTION, "another-rg", arm.AML_WORKSPACES, names.aml_workspace)
    fake.put(group_path("another-rg"), {"location": "westeurope"})
    fake.put(other, {"location": "westeurope", "properties": {}})
    fake.request("DELETE", other)
    fake.finish_operations()

    code, out, _ = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert (code, out) == (0, "clean\n")


def test_prefix_location_and_subscription_come_from_the_stack_file(fake, tmp_path):
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n"
        "  azure-native:location: North Europe\n"
        f"  azure-native:subscriptionId: {SUBSCRIPTION}\n"
        "  databricks-azureml:prefix: ml\n"
    )
    names = names_for("ml", "prod")
    leave(fake, names, "northeurope", vault=True)

    code, out, _ = run(fake, "--stack", "prod", "--project-dir", str(tmp_path), environ={})

    assert code == 1
    assert out.startswith(f"key vault {names.key_vault} ")
    assert arm_requests(fake)[0] == group_path("ml-prod-rg").lower()
    assert (
        arm_requests(fake)[-1]
        == arm.deleted_key_vault_id(SUBSCRIPTION, "northeurope", names.key_vault).lower()
    )


def test_the_cloud_comes_from_the_stack_file(fake, tmp_path):
    (tmp_path / "Pulumi.gov.yaml").write_text(
        "config:\n"
        "  azure-native:location: usgovvirginia\n"
        "  azure-native:environment: usgovernment\n"
    )
    clouds: list[CloudConfig] = []

    def client(_subscription_id: str, cloud: CloudConfig) -> arm.Arm:
        clouds.append(cloud)
        return arm_for(fake)

    code = check.main(
        ["--stack", "gov", "--project-dir", str(tmp_path)],
        client_factory=client,
        environ={"AZURE_SUBSCRIPTION_ID": SUBSCRIPTION},
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert code == 0
    assert clouds == [CloudConfig("usgovernment", "")]


def test_an_unknown_cloud_is_reported_before_calling_azure(fake, tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  azure-native:location: westeurope\n  azure-native:environment: mars\n"
    )

    code, _, err = run(fake, "--stack", "dev", "--project-dir", str(tmp_path))

    assert code == 2 and "azure-native:environment: mars is not allowed" in err
    assert fake.requests == []


def test_flags_override_the_stack_file(fake, project):
    code, out, _ = run(
        fake,
        "--stack", "dev", "--project-dir", str(project),
        "--prefix", "team", "--location", "swedencentral", "--subscription", SUBSCRIPTION,
        environ={},
    )  # fmt: skip

    assert (code, out) == (0, "clean\n")
    assert arm_requests(fake)[0] == group_path("team-dev-rg").lower()
    assert (
        arm_requests(fake)[-1]
        == arm.deleted_key_vault_id(
            SUBSCRIPTION, "swedencentral", names_for("team").key_vault
        ).lower()
    )


def test_forbidden_read_is_a_one_line_error_naming_the_permission(fake, project):
    fake.fail(group_path("mlflow-dev-rg"), 403, code="AuthorizationFailed", message="denied")

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "Microsoft.Resources/subscriptions/resourceGroups/read" in err


def test_failed_sign_in_is_a_one_line_error(fake, project):
    code, out, err = run(
        fake, "--stack", "dev", "--project-dir", str(project), credential=FailingCredential()
    )

    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "az login" in err
    assert arm_requests(fake) == []


def test_missing_subscription_is_reported_before_calling_azure(fake, project):
    code, _, err = run(fake, "--stack", "dev", "--project-dir", str(project), environ={})

    assert code == 2
    assert "no subscription" in err and "--subscription" in err
    assert fake.requests == []


def test_missing_location_is_reported_before_calling_azure(fake, tmp_path):
    code, _, err = run(fake, "--stack", "dev", "--project-dir", str(tmp_path))

    assert code == 2
    assert "azure-native:location" in err
    assert fake.requests == []


def test_invalid_prefix_is_rejected(fake, project):
    code, _, err = run(fake, "--stack", "dev", "--project-dir", str(project), "--prefix", "ML!")

    assert code == 2 and "prefix 'ML!' is not allowed" in err
    assert fake.requests == []


def test_a_forbidden_soft_delete_listing_fails_the_check_not_reported_as_unchecked(fake, project):
    """Lacking the permission to list is the check failing, not ARM lacking the listing: the
    leftovers found before it are not reported as if the rest were known."""
    leave(fake, names_for(), group=True)
    fake.fail(
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/"
        "deletedWorkspaces",
        403,
        code="AuthorizationFailed",
        message="denied",
    )

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "teardown-check: listing soft-deleted AzureML workspaces: permission denied (403 "
        "AuthorizationFailed)"
    )
    assert "Microsoft.MachineLearningServices/workspaces/read" in err
    assert "not checked" not in err


def test_unavailable_soft_delete_listing_means_the_name_is_possibly_blocked(project):
    with FakeArm(serve_deleted_workspaces=False) as fake:
        code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 2 and out == ""
    assert err.startswith("teardown-check: not checked: soft-deleted AzureML workspace")
    assert "mlflow-dev-mlw: its name is possibly blocked" in err
    assert "Recently deleted" in err


def test_unavailable_soft_delete_listing_still_lists_other_leftovers(project):
    with FakeArm(serve_deleted_workspaces=False) as fake:
        leave(fake, names_for(), group=True)
        code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 1
    assert out.startswith("resource group mlflow-dev-rg still exists")
    assert "not checked" in err and "possibly blocked" in err


def test_runs_as_a_module_and_fails_cleanly_without_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("SUBSCRIPTION_ID")}
    env["PYTHONPATH"] = str(ROOT)

    result = subprocess.run(
        [sys.executable, "-m", "teardown.check", "--stack", "dev", "--project-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("teardown-check: no location")
    assert "Traceback" not in result.stderr


def test_a_borrowed_resource_group_is_not_a_leftover_and_overridden_names_are_checked(
    fake, tmp_path
):
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  azure-native:location: westeurope\n"
        "  databricks-azureml:resourceGroupName: team-spoke-rg\n"
        "  databricks-azureml:names:\n"
        "    amlWorkspace: mlw-team\n"
        "    keyVault: kv-team-ml\n"
    )
    borrowed = Names("team-spoke-rg", "mlflow-dev-databricks-managed-rg", "mlw-team", "kv-team-ml")
    leave(fake, borrowed, workspace=True, vault=True)
    fake.put(group_path("team-spoke-rg"), {"location": "westeurope"})  # the platform's, kept

    code, out, _ = run(fake, "--stack", "dev", "--project-dir", str(tmp_path))

    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("AzureML workspace mlw-team (resource group team-spoke-rg)")
    assert lines[1].startswith("key vault kv-team-ml is deleted but not purged")
    assert group_path("team-spoke-rg").lower() not in arm_requests(fake)
