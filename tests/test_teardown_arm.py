"""teardown.arm through the real management SDK clients against the stateful loopback ARM, which
the client finds the way a custom cloud is found: through its metadata endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from arm import client as arm
from arm.cloud import CloudConfig, CloudError, resolve
from tests.fakecloud.arm import SUBSCRIPTION, TENANT, TOKEN, FakeArm, StaticCredential

ROOT = Path(__file__).resolve().parent.parent
GROUP = "mlflow-dev-rg"
WORKSPACE = "mlflow-dev-mlw"
VAULT = "mlflow-dev-1a2b3c"
DATABRICKS = "mlflow-dev-dbw"
MANAGED_GROUP = "mlflow-dev-databricks-managed-rg"
WORKSPACE_ID = arm.resource_id(SUBSCRIPTION, GROUP, arm.AML_WORKSPACES, WORKSPACE)
VAULT_ID = arm.resource_id(SUBSCRIPTION, GROUP, arm.KEY_VAULTS, VAULT)
DATABRICKS_ID = arm.resource_id(SUBSCRIPTION, GROUP, arm.DATABRICKS_WORKSPACES, DATABRICKS)
DELETED_VAULT_ID = arm.deleted_key_vault_id(SUBSCRIPTION, "westeurope", VAULT)
DELETED_WORKSPACES = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/deletedWorkspaces"
)


class FailingCredential:
    """Fails as DefaultAzureCredential does when nobody is signed in."""

    def get_token(self, *_scopes: str, **_kwargs: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError

        raise ClientAuthenticationError(
            "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
            "AzureCliCredential: Please run 'az login' to set up an account"
        )


def arm_for(fake: FakeArm, credential: Any = None, **overrides: Any) -> arm.Arm:
    """An Arm for the fake: custom cloud by metadata host, static token, fast polls, no waits."""
    settings: dict[str, Any] = {
        "polling_interval": 0.01,
        "timeout": 10.0,
        "retry_total": 0,
        "transport": fake.transport(),
    }
    settings.update(overrides)
    cloud = resolve(CloudConfig(metadata_host=fake.metadata_host), transport=fake.transport())
    return arm.Arm(
        SUBSCRIPTION, cloud=cloud, credential=credential or StaticCredential(), **settings
    )


def group_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"


def seed_group(fake: FakeArm, name: str = GROUP) -> None:
    fake.put(group_id(name), {"location": "westeurope"})


def seed_workspace(fake: FakeArm) -> None:
    seed_group(fake)
    fake.put(WORKSPACE_ID, {"location": "westeurope", "properties": {"storageAccount": "/sa"}})


def seed_vault(fake: FakeArm, group: str = GROUP, **properties: Any) -> None:
    seed_group(fake, group)
    fake.put(
        arm.resource_id(SUBSCRIPTION, group, arm.KEY_VAULTS, VAULT),
        {
            "location": "westeurope",
            "properties": {
                "tenantId": TENANT,
                "sku": {"family": "A", "name": "standard"},
                **properties,
            },
        },
    )


def seed_databricks(fake: FakeArm) -> None:
    seed_group(fake)
    fake.put(
        DATABRICKS_ID,
        {
            "location": "westeurope",
            "sku": {"name": "premium"},
            "properties": {"managedResourceGroupId": group_id(MANAGED_GROUP)},
        },
    )


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as server:
        yield server


# --- the cloud ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "endpoint", "scope", "authority"),
    [
        (
            "public",
            "https://management.azure.com",
            "https://management.azure.com/.default",
            "login.microsoftonline.com",
        ),
        (
            "usgovernment",
            "https://management.usgovcloudapi.net",
            "https://management.core.usgovcloudapi.net/.default",
            "login.microsoftonline.us",
        ),
        (
            "china",
            "https://management.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/.default",
            "login.chinacloudapi.cn",
        ),
    ],
)
def test_national_clouds_come_from_azure_native_environment(
    environment, endpoint, scope, authority
):
    cloud = resolve(CloudConfig(environment=environment))

    assert (cloud.endpoint, cloud.scope, cloud.authority) == (endpoint, scope, authority)


def test_unknown_environment_is_rejected_naming_the_setting():
    with pytest.raises(CloudError, match="azure-native:environment: german is not allowed"):
        CloudConfig(environment="german")


def test_custom_cloud_is_read_from_its_metadata_endpoint(fake):
    cloud = resolve(CloudConfig(metadata_host=fake.metadata_host), transport=fake.transport())

    assert cloud.endpoint == fake.base_url
    assert cloud.scope == f"{fake.base_url}/.default"
    (request,) = fake.calls("GET", "/metadata/endpoints")
    assert request.query == {"api-version": "2022-09-01"}


def test_custom_cloud_without_resource_manager_is_a_clear_error(fake):
    fake.fail("/metadata/endpoints", 200, body={"name": "AzureStack"})

    with pytest.raises(CloudError, match="resourceManager"):
        resolve(CloudConfig(metadata_host=fake.metadata_host), transport=fake.transport())


def test_stack_config_names_the_cloud():
    config = {"azure-native:environment": "USGovernment", "azure-native:metadataHost": ""}

    assert CloudConfig.from_stack_config(config) == CloudConfig("usgovernment", "")
    assert CloudConfig.from_stack_config({}) == CloudConfig()


# --- AzureML workspace ----------------------------------------------------------------------


def test_workspace_purge_sends_force_to_purge_with_a_bearer_token_for_the_clouds_scope(fake):
    seed_workspace(fake)
    credential = StaticCredential()

    with arm_for(fake, credential) as client:
        assert arm.purge_aml_workspace(client, GROUP, WORKSPACE) is True

    (delete,) = fake.calls("DELETE", WORKSPACE_ID)
    assert delete.path == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{WORKSPACE}"
    )
    assert delete.query == {"api-version": "2024-04-01", "forceToPurge": "true"}
    assert delete.headers["authorization"] == f"Bearer {TOKEN}"
    assert credential.scopes[0] == (f"{fake.base_url}/.default",)
    assert fake.get(WORKSPACE_ID) is None
    assert fake.soft_deleted_workspaces == {}  # purged, not soft-deleted


def test_workspace_purge_polls_the_async_operation_until_it_succeeds(fake):
    seed_workspace(fake)
    fake.async_polls = 3

    with arm_for(fake) as client:
        assert arm.purge_aml_workspace(client, GROUP, WORKSPACE) is True

    polls = [r for r in fake.requests if "/operationStatuses/" in r.path]
    assert len(polls) == 4  # three InProgress, then Succeeded
    assert fake.get(WORKSPACE_ID) is None


@pytest.mark.parametrize(
    ("delete", "workspace"),
    [
        (arm.purge_aml_workspace, WORKSPACE),
        (arm.force_delete_databricks_workspace, DATABRICKS),
    ],
    ids=["azureml purge", "databricks force delete"],
)
def test_a_delete_of_a_workspace_that_is_not_there_counts_as_done(fake, delete, workspace):
    seed_group(fake)

    with arm_for(fake) as client:
        assert delete(client, GROUP, workspace) is False


def test_soft_deleted_workspace_answers_404_and_keeps_its_name(fake):
    seed_workspace(fake)
    fake.request("DELETE", WORKSPACE_ID)  # a plain delete: soft delete
    fake.finish_operations()

    with arm_for(fake) as client:
        assert arm.purge_aml_workspace(client, GROUP, WORKSPACE) is False

    assert fake.request("PUT", WORKSPACE_ID, {"location": "westeurope"}).status == 409


def test_forbidden_purge_names_the_missing_permission(fake):
    seed_workspace(fake)
    fake.fail(WORKSPACE_ID, 403, code="AuthorizationFailed", message="denied")

    with arm_for(fake) as client, pytest.raises(arm.ArmPermissionError) as raised:
        arm.purge_aml_workspace(client, GROUP, WORKSPACE)

    assert raised.value.permission == "Microsoft.MachineLearningServices/workspaces/delete"
    assert "403 AuthorizationFailed" in str(raised.value)
    assert fake.get(WORKSPACE_ID) is not None


def test_failed_sign_in_raises_auth_error_before_anything_is_sent(fake):
    seed_workspace(fake)

    with (
        arm_for(fake, FailingCredential()) as client,
        pytest.raises(arm.ArmAuthError, match="az login"),
    ):
        arm.purge_aml_workspace(client, GROUP, WORKSPACE)

    assert fake.calls("DELETE") == []


def test_rejected_token_raises_auth_error(fake):
    seed_workspace(fake)
    fake.fail(WORKSPACE_ID, 401, code="InvalidAuthenticationToken", message="expired")

    with arm_for(fake) as client, pytest.raises(arm.ArmAuthError, match="401"):
        arm.purge_aml_workspace(client, GROUP, WORKSPACE)


# --- key vault ------------------------------------------------------------------------------


def test_key_vault_purge_posts_to_deleted_vaults_and_frees_the_name(fake):
    seed_vault(fake)

    with arm_for(fake) as client:
        arm.delete_key_vault(client, GROUP, VAULT)
        result = arm.purge_key_vault(client, "West Europe", VAULT, resource_group=GROUP)

    assert result.outcome == "purged"
    (purge,) = fake.calls("POST", DELETED_VAULT_ID + "/purge")
    assert purge.query == {"api-version": "2022-07-01"}
    assert fake.deleted_vaults == {}


def test_key_vault_purge_waits_across_polls_until_the_deleted_vault_appears(fake):
    """ARM is eventually consistent: right after a delete, deletedVaults may answer 404 for a
    while; a purge that gives up after one such poll leaves the name blocked."""
    fake.deleted_vault_lag = 2
    seed_vault(fake)

    with arm_for(fake) as client:
        arm.delete_key_vault(client, GROUP, VAULT)
        result = arm.purge_key_vault(client, "westeurope", VAULT, resource_group=GROUP)

    assert result.outcome == "purged"
    assert len(fake.calls("GET", DELETED_VAULT_ID)) == 3
    assert fake.deleted_vaults == {}


def test_key_vault_purge_finds_nothing_when_the_vault_is_gone_everywhere(fake):
    seed_group(fake)

    with arm_for(fake) as client:
        result = arm.purge_key_vault(client, "westeurope", VAULT, resource_group=GROUP)

    assert result.outcome == "absent"
    assert len(fake.calls("GET", DELETED_VAULT_ID)) == 3
    assert fake.calls("POST") == []


def test_key_vault_purge_leaves_a_deleted_vault_of_another_resource_group_alone(fake):
    seed_vault(fake, "another-rg")
    fake.request("DELETE", arm.resource_id(SUBSCRIPTION, "another-rg", arm.KEY_VAULTS, VAULT))
    seed_group(fake)

    with arm_for(fake) as client:
        result = arm.purge_key_vault(client, "westeurope", VAULT, resource_group=GROUP)

    assert result.outcome == "other_group"
    assert fake.calls("POST") == []
    assert VAULT in fake.deleted_vaults


def test_key_vault_with_purge_protection_is_reported_with_its_purge_date(fake):
    seed_vault(fake, enablePurgeProtection=True)

    with arm_for(fake) as client:
        arm.delete_key_vault(client, GROUP, VAULT)
        result = arm.purge_key_vault(client, "westeurope", VAULT, resource_group=GROUP)

    assert result.outcome == "protected"
    assert result.scheduled_purge_date == str(
        fake.deleted_vaults[VAULT]["properties"]["scheduledPurgeDate"]
    ).replace("T", " ").replace("Z", "+00:00")
    assert fake.calls("POST") == []


def test_forbidden_key_vault_purge_names_the_purge_permission(fake):
    seed_vault(fake)
    fake.fail(DELETED_VAULT_ID + "/purge", 403, code="AuthorizationFailed", message="denied")

    with arm_for(fake) as client, pytest.raises(arm.ArmPermissionError, match="purge/action"):
        arm.delete_key_vault(client, GROUP, VAULT)
        arm.purge_key_vault(client, "westeurope", VAULT, resource_group=GROUP)


def test_key_vault_delete_of_a_vault_already_gone_is_quiet(fake):
    seed_group(fake)

    with arm_for(fake) as client:
        arm.delete_key_vault(client, GROUP, VAULT)

    (delete,) = fake.calls("DELETE", VAULT_ID)
    assert delete.query == {"api-version": "2022-07-01"}


# --- Databricks workspace -------------------------------------------------------------------


def test_databricks_force_delete_removes_the_managed_resource_group_too(fake):
    seed_databricks(fake)
    assert fake.get(group_id(MANAGED_GROUP)) is not None

    with arm_for(fake) as client:
        assert arm.force_delete_databricks_workspace(client, GROUP, DATABRICKS) is True

    (delete,) = fake.calls("DELETE", DATABRICKS_ID)
    assert delete.query == {"api-version": "2024-05-01", "forceDeletion": "true"}
    assert fake.get(DATABRICKS_ID) is None
    assert fake.get(group_id(MANAGED_GROUP)) is None


# --- lookups for the leftover check ---------------------------------------------------------


def test_resource_group_lookup_distinguishes_present_from_absent(fake):
    seed_group(fake)

    with arm_for(fake) as client:
        found = arm.get_resource_group(client, GROUP)
        missing = arm.get_resource_group(client, "nope-rg")

    assert found is not None and found.name == GROUP
    assert missing is None


def test_forbidden_resource_group_read_names_the_permission(fake):
    fake.fail(group_id(GROUP), 403, code="AuthorizationFailed", message="denied")

    with arm_for(fake) as client, pytest.raises(arm.ArmPermissionError) as raised:
        arm.get_resource_group(client, GROUP)

    assert raised.value.permission == "Microsoft.Resources/subscriptions/resourceGroups/read"


def test_soft_deleted_workspace_is_found_across_pages_and_matched_by_group(fake):
    seed_workspace(fake)
    fake.request("DELETE", WORKSPACE_ID)
    fake.finish_operations()
    other = {
        "name": WORKSPACE,
        "id": arm.resource_id(SUBSCRIPTION, "x-rg", arm.AML_WORKSPACES, "y"),
    }
    next_link = f"{fake.base_url}{DELETED_WORKSPACES}?api-version=2024-04-01&$skiptoken=2"
    fake.fail(DELETED_WORKSPACES, 200, body={"value": [other], "nextLink": next_link})

    with arm_for(fake) as client:
        found = arm.find_soft_deleted_aml_workspace(client, GROUP, WORKSPACE)
        elsewhere = arm.find_soft_deleted_aml_workspace(client, "another-rg", WORKSPACE)

    assert found is not None and found["id"] == WORKSPACE_ID
    assert elsewhere is None
    assert fake.calls("GET", DELETED_WORKSPACES)[1].query["$skiptoken"] == "2"


def test_soft_deleted_workspace_listing_unavailable_is_reported_as_such():
    with (
        FakeArm(serve_deleted_workspaces=False) as fake,
        arm_for(fake) as client,
        pytest.raises(arm.ArmUnsupportedError, match="Recently deleted"),
    ):
        arm.find_soft_deleted_aml_workspace(client, GROUP, WORKSPACE)


def test_default_credential_uses_the_service_principal_given_to_azure_native():
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    principal = {"ARM_TENANT_ID": TENANT, "ARM_CLIENT_ID": "app", "ARM_CLIENT_SECRET": "s"}

    assert isinstance(arm.default_credential(principal), ClientSecretCredential)
    assert isinstance(
        arm.default_credential({**principal, "AZURE_CLIENT_ID": "other"}), DefaultAzureCredential
    )


# --- the fake's own rules (what the e2e relies on) ------------------------------------------


def test_fake_rejects_changes_azure_marks_as_immutable(fake):
    seed_workspace(fake)
    seed_databricks(fake)
    vnet = f"{group_id(GROUP)}/providers/Microsoft.Network/virtualNetworks/vnet"
    fake.put(vnet, {"location": "westeurope", "properties": {}})
    fake.put(f"{vnet}/subnets/host", {"properties": {"defaultOutboundAccess": False}})

    changes = [
        (WORKSPACE_ID, {"location": "westeurope", "properties": {"storageAccount": "/other"}}),
        (
            DATABRICKS_ID,
            {"location": "westeurope", "properties": {"managedResourceGroupId": group_id("x")}},
        ),
        (f"{vnet}/subnets/host", {"properties": {"defaultOutboundAccess": True}}),
    ]
    for rid, body in changes:
        reply = fake.request("PUT", rid, body)
        assert (reply.status, reply.body["error"]["code"]) == (400, "PropertyChangeNotAllowed")


def test_fake_computes_what_arm_computes(fake):
    seed_workspace(fake)
    seed_databricks(fake)

    workspace = fake.get(WORKSPACE_ID)["properties"]
    databricks = fake.get(DATABRICKS_ID)["properties"]

    assert workspace["mlFlowTrackingUri"] == (
        f"azureml://westeurope.api.azureml.ms/mlflow/v1.0{WORKSPACE_ID}"
    )
    assert workspace["discoveryUrl"] == "https://westeurope.api.azureml.ms/discovery"
    assert databricks["workspaceUrl"].startswith(f"adb-{databricks['workspaceId']}.")
    assert fake.get(group_id(MANAGED_GROUP))["managedBy"] == DATABRICKS_ID


def test_fake_databricks_refuses_an_existing_managed_group_and_keeps_it_without_force(fake):
    seed_group(fake, MANAGED_GROUP)
    with pytest.raises(ValueError, match="ApplianceProvisioningFailed"):
        seed_databricks(fake)  # the operation fails, as in Azure

    fake.resources.pop(DATABRICKS_ID.lower())
    fake.resources.pop(group_id(MANAGED_GROUP).lower())
    seed_databricks(fake)
    fake.request("DELETE", DATABRICKS_ID)  # no forceDeletion
    fake.finish_operations()
    assert fake.get(group_id(MANAGED_GROUP)) is not None


def test_fake_keeps_purge_protection_on_and_names_in_deleted_vaults_taken(fake):
    seed_vault(fake, enablePurgeProtection=True)
    body = {"location": "westeurope", "properties": {"enablePurgeProtection": False}}

    assert fake.request("PUT", VAULT_ID, body).status == 400
    fake.request("DELETE", VAULT_ID)
    reply = fake.request("PUT", VAULT_ID, {"location": "westeurope", "properties": {}})
    assert (reply.status, reply.body["error"]["code"]) == (409, "ConflictError")
    reply = fake.request("POST", DELETED_VAULT_ID + "/purge")
    assert (reply.status, reply.body["error"]["code"]) == (409, "MethodNotAllowed")


def test_fake_group_delete_applies_each_types_rules(fake):
    seed_workspace(fake)
    seed_vault(fake)

    fake.request("DELETE", group_id(GROUP))
    fake.finish_operations()

    assert fake.resources == {}
    assert VAULT in fake.deleted_vaults
    assert WORKSPACE_ID.lower() in fake.soft_deleted_workspaces


def test_fake_runs_standalone_and_writes_where_it_listens(tmp_path):
    info = tmp_path / "arm.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakecloud.arm", "--info", str(info)], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 30
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        started = json.loads(info.read_text())
        metadata = requests.get(
            f"{started['url']}/metadata/endpoints?api-version=2022-09-01",
            verify=started["ca_file"],
            timeout=10,
        ).json()
        requests.post(
            f"{started['url']}/_fake/faults",
            json={"path": "/subscriptions/s", "status": 503},
            verify=started["ca_file"],
            timeout=10,
        )
        faulted = requests.get(
            f"{started['url']}/subscriptions/s",
            headers={"Authorization": "Bearer t"},
            verify=started["ca_file"],
            timeout=10,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert started["metadata_host"] == started["url"].removeprefix("https://")
    assert metadata["resourceManager"] == started["url"] + "/"
    assert faulted.status_code == 503
    assert process.returncode == 0


def test_key_vault_purge_matches_its_resource_group_in_any_casing(fake):
    # ARM compares resource group names case-insensitively.
    seed_vault(fake)

    with arm_for(fake) as client:
        arm.delete_key_vault(client, GROUP, VAULT)
        result = arm.purge_key_vault(client, "westeurope", VAULT, resource_group=GROUP.upper())

    assert result.outcome == "purged"
    assert fake.deleted_vaults == {}


def test_soft_deleted_workspace_is_matched_by_group_and_name_in_any_casing(fake):
    seed_workspace(fake)
    fake.request("DELETE", WORKSPACE_ID)
    fake.finish_operations()

    with arm_for(fake) as client:
        found = arm.find_soft_deleted_aml_workspace(client, GROUP.upper(), WORKSPACE.upper())

    assert found is not None and found["id"] == WORKSPACE_ID
