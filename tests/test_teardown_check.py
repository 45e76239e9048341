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

from core.naming import (
    global_names,
    resource_group_name,
    resource_names,
    unique_suffix,
)
from teardown import arm, check
from tests.arm_fake import SUBSCRIPTION, FailingCredential, FakeArm, arm_error, reply

ROOT = Path(__file__).resolve().parent.parent
NOT_FOUND = arm_error(404, "ResourceNotFound", "not found")
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
    return f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{name}"


def script(
    fake: FakeArm,
    names: Names,
    location: str = "westeurope",
    *,
    group: bool = False,
    managed_group: bool = False,
    workspace: bool = False,
    vault: bool = False,
) -> None:
    """ARM's answers after a destroy; each flag leaves that thing behind."""
    fake.on(
        "GET",
        group_path(names.resource_group),
        reply(200, {"properties": {"provisioningState": "Deleting"}}) if group else NOT_FOUND,
    )
    fake.on(
        "GET",
        group_path(names.managed_resource_group),
        reply(200, {"properties": {"provisioningState": "Succeeded"}})
        if managed_group
        else NOT_FOUND,
    )
    soft_deleted = {
        "name": names.aml_workspace,
        "id": arm.aml_workspace_path(SUBSCRIPTION, names.resource_group, names.aml_workspace),
    }
    fake.on("GET", DELETED_WORKSPACES, reply(200, {"value": [soft_deleted] if workspace else []}))
    fake.on(
        "GET",
        arm.deleted_key_vault_path(SUBSCRIPTION, location, names.key_vault),
        reply(200, {"properties": {"scheduledPurgeDate": "2030-02-01T00:00:00Z"}})
        if vault
        else NOT_FOUND,
    )


def run(fake: FakeArm, *argv: str, credential=None, environ=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = check.main(
        list(argv),
        client_factory=lambda: fake.client(credential),
        environ={"AZURE_SUBSCRIPTION_ID": SUBSCRIPTION} if environ is None else environ,
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_clean_subscription_prints_clean_and_exits_0(fake, project):
    names = names_for()
    script(fake, names)

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert (code, out, err) == (0, "clean\n", "")
    assert [r.path for r in fake.requests] == [
        group_path("mlflow-dev-rg"),
        group_path("mlflow-dev-databricks-managed-rg"),
        DELETED_WORKSPACES,
        arm.deleted_key_vault_path(SUBSCRIPTION, "westeurope", names.key_vault),
    ]


def test_every_leftover_is_listed_on_its_own_line_and_exits_1(fake, project):
    names = names_for()
    script(fake, names, group=True, managed_group=True, workspace=True, vault=True)

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


def test_a_soft_deleted_workspace_of_another_resource_group_is_not_a_leftover(fake, project):
    names = names_for()
    script(fake, names)
    other = arm.aml_workspace_path(SUBSCRIPTION, "another-rg", names.aml_workspace)
    fake.on(
        "GET",
        DELETED_WORKSPACES,
        reply(200, {"value": [{"name": names.aml_workspace, "id": other}]}),
    )

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
    script(fake, names, "northeurope", vault=True)

    code, out, _ = run(fake, "--stack", "prod", "--project-dir", str(tmp_path), environ={})

    assert code == 1
    assert out.startswith(f"key vault {names.key_vault} ")
    assert fake.requests[0].path == group_path("ml-prod-rg")
    assert fake.requests[-1].path == arm.deleted_key_vault_path(
        SUBSCRIPTION, "northeurope", names.key_vault
    )


def test_flags_override_the_stack_file(fake, project):
    names = names_for("team")
    script(fake, names, "swedencentral")

    code, out, _ = run(
        fake,
        "--stack", "dev", "--project-dir", str(project),
        "--prefix", "team", "--location", "swedencentral", "--subscription", SUBSCRIPTION,
        environ={},
    )  # fmt: skip

    assert (code, out) == (0, "clean\n")
    assert fake.requests[0].path == group_path("team-dev-rg")


def test_forbidden_read_is_a_one_line_error_naming_the_permission(fake, project):
    fake.on(
        "GET",
        group_path("mlflow-dev-rg"),
        arm_error(403, "AuthorizationFailed", "The client does not have authorization"),
    )

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
    assert fake.requests == []


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


def test_unavailable_soft_delete_listing_means_not_clean(fake, project):
    names = names_for()
    script(fake, names)
    fake.on("GET", DELETED_WORKSPACES, arm_error(400, "InvalidResourceType", "no such type"))

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 2 and out == ""
    assert err.startswith("teardown-check: not checked: soft-deleted AzureML workspace")
    assert "Recently deleted" in err


def test_unavailable_soft_delete_listing_still_lists_other_leftovers(fake, project):
    names = names_for()
    script(fake, names, group=True)
    fake.on("GET", DELETED_WORKSPACES, arm_error(404, "NotFound", "no route"))

    code, out, err = run(fake, "--stack", "dev", "--project-dir", str(project))

    assert code == 1
    assert out.startswith("resource group mlflow-dev-rg still exists")
    assert "not checked" in err


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
