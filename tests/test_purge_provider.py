"""The teardown dynamic providers: create/diff/update/delete against the stateful loopback ARM,
what deployed state pins (type tokens, the provider's module path), and the destroy order the
program gives them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from arm import client as arm
from arm.cloud import CloudConfig, read_cloud_config
from components.purge import (
    AML_WORKSPACE_PURGE_TYPE,
    DATABRICKS_FORCE_DELETE_TYPE,
    KEY_VAULT_PURGE_TYPE,
    AmlWorkspacePurge,
    AmlWorkspacePurgeArgs,
    AmlWorkspacePurgeProvider,
    DatabricksWorkspaceForceDeleteProvider,
    KeyVaultPurge,
    KeyVaultPurgeArgs,
    KeyVaultPurgeProvider,
    purged_key_vault_options,
    purged_workspace_options,
)
from tests.fakecloud.arm import SUBSCRIPTION, FakeArm
from tests.stacks import DEV
from tests.test_teardown_arm import (
    DATABRICKS,
    DATABRICKS_ID,
    GROUP,
    MANAGED_GROUP,
    VAULT,
    VAULT_ID,
    WORKSPACE,
    WORKSPACE_ID,
    arm_for,
    group_id,
    seed_databricks,
    seed_vault,
    seed_workspace,
)
from tools.offline import run_program

WORKSPACE_PROPS = {
    "subscription_id": SUBSCRIPTION,
    "resource_group_name": GROUP,
    "workspace_name": WORKSPACE,
    "purge_on_destroy": True,
    "environment": "public",
    "metadata_host": "",
}
VAULT_PROPS = {
    "subscription_id": SUBSCRIPTION,
    "resource_group_name": GROUP,
    "key_vault_name": VAULT,
    "location": "westeurope",
    "purge_on_destroy": True,
    "environment": "public",
    "metadata_host": "",
}
DATABRICKS_PROPS = {
    "subscription_id": SUBSCRIPTION,
    "resource_group_name": GROUP,
    "workspace_name": DATABRICKS,
    "managed_resource_group_name": MANAGED_GROUP,
    "environment": "public",
    "metadata_host": "",
}


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as server:
        yield server


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_a, **_k: said.append(message))
    return said


def factory(fake: FakeArm, seen: list[tuple[str, CloudConfig]] | None = None) -> Any:
    def make(subscription_id: str, cloud: CloudConfig) -> arm.Arm:
        if seen is not None:
            seen.append((subscription_id, cloud))
        return arm_for(fake)

    return make


def test_create_records_the_inputs_without_calling_azure(fake):
    provider = AmlWorkspacePurgeProvider(client_factory=factory(fake))

    result = provider.create({**WORKSPACE_PROPS, "__provider": "serialized"})

    assert result.outs == WORKSPACE_PROPS
    assert result.id == WORKSPACE_ID
    assert fake.requests == []


def test_delete_purges_the_workspace_in_the_cloud_the_stack_names(fake):
    seed_workspace(fake)
    seen: list[tuple[str, CloudConfig]] = []
    provider = AmlWorkspacePurgeProvider(client_factory=factory(fake, seen))
    props = {**WORKSPACE_PROPS, "environment": "usgovernment"}
    created = provider.create(props)

    provider.delete(created.id, created.outs)

    assert seen == [(SUBSCRIPTION, CloudConfig("usgovernment", ""))]
    assert fake.calls("DELETE", WORKSPACE_ID)[0].query["forceToPurge"] == "true"
    assert fake.get(WORKSPACE_ID) is None and fake.soft_deleted_workspaces == {}


def test_state_from_before_the_cloud_inputs_purges_in_public_azure(fake):
    seen: list[tuple[str, CloudConfig]] = []
    old = {k: v for k, v in WORKSPACE_PROPS.items() if k not in ("environment", "metadata_host")}

    AmlWorkspacePurgeProvider(client_factory=factory(fake, seen)).delete(WORKSPACE_ID, old)

    assert seen == [(SUBSCRIPTION, CloudConfig())]


def test_workspace_not_there_is_done_and_the_destroy_output_says_its_name_may_be_taken(
    fake, warnings
):
    fake.put(group_id(GROUP), {"location": "westeurope"})

    AmlWorkspacePurgeProvider(client_factory=factory(fake)).delete(WORKSPACE_ID, WORKSPACE_PROPS)

    (said,) = warnings
    assert WORKSPACE in said and "Azure/azure-cli #33756" in said


def test_delete_fails_with_the_missing_permission_named(fake):
    seed_workspace(fake)
    fake.fail(WORKSPACE_ID, 403, code="AuthorizationFailed", message="denied")
    provider = AmlWorkspacePurgeProvider(client_factory=factory(fake))

    with pytest.raises(arm.ArmPermissionError, match="workspaces/delete"):
        provider.delete(WORKSPACE_ID, WORKSPACE_PROPS)


def test_turning_purge_off_updates_in_place_and_delete_then_leaves_azure_alone(fake):
    provider = AmlWorkspacePurgeProvider(client_factory=factory(fake))
    off = {**WORKSPACE_PROPS, "purge_on_destroy": False}

    diff = provider.diff(WORKSPACE_ID, WORKSPACE_PROPS, off)
    updated = provider.update(WORKSPACE_ID, WORKSPACE_PROPS, off)
    provider.delete(WORKSPACE_ID, updated.outs)

    assert diff.changes is True and diff.replaces == []
    assert updated.outs["purge_on_destroy"] is False
    assert fake.requests == []


def test_only_a_new_target_replaces_a_purge_resource():
    workspace = AmlWorkspacePurgeProvider()
    vault = KeyVaultPurgeProvider()

    renamed = workspace.diff("id", WORKSPACE_PROPS, {**WORKSPACE_PROPS, "workspace_name": "x"})
    moved = vault.diff("id", VAULT_PROPS, {**VAULT_PROPS, "location": "northeurope"})
    recloud = workspace.diff("id", WORKSPACE_PROPS, {**WORKSPACE_PROPS, "environment": "china"})
    unchanged = workspace.diff("id", WORKSPACE_PROPS, dict(WORKSPACE_PROPS))

    assert renamed.changes is True and renamed.replaces == ["workspace_name"]
    assert renamed.delete_before_replace is False
    # A replacement's delete purges the old target: never the vault that keeps its name.
    assert moved.changes is True and moved.replaces == []
    assert recloud.changes is True and recloud.replaces == []
    assert unchanged.changes is False and unchanged.replaces == []


def test_key_vault_delete_deletes_the_vault_then_purges_it(fake):
    seed_vault(fake)
    provider = KeyVaultPurgeProvider(client_factory=factory(fake))
    created = provider.create(dict(VAULT_PROPS))

    provider.delete(created.id, created.outs)

    assert created.id == VAULT_ID
    assert fake.get(VAULT_ID) is None and fake.deleted_vaults == {}


def test_key_vault_already_deleted_by_pulumi_is_still_purged_once_arm_lists_it(fake):
    fake.deleted_vault_lag = 2  # deletedVaults answers 404 twice after the delete
    seed_vault(fake)
    fake.request("DELETE", VAULT_ID)  # Pulumi's own delete

    KeyVaultPurgeProvider(client_factory=factory(fake)).delete(VAULT_ID, VAULT_PROPS)

    assert len(fake.calls("POST")) == 1
    assert fake.deleted_vaults == {}


def test_purge_protected_vault_does_not_fail_the_destroy_and_says_until_when(fake, warnings):
    seed_vault(fake, enablePurgeProtection=True)

    KeyVaultPurgeProvider(client_factory=factory(fake)).delete(VAULT_ID, VAULT_PROPS)

    (said,) = warnings
    purge_date = fake.deleted_vaults[VAULT]["properties"]["scheduledPurgeDate"][:10]
    assert f"key vault {VAULT} has purge protection" in said
    assert purge_date in said
    assert fake.calls("POST") == []


def test_databricks_force_delete_removes_the_workspace_and_its_managed_group(fake, warnings):
    seed_databricks(fake)
    provider = DatabricksWorkspaceForceDeleteProvider(client_factory=factory(fake))
    created = provider.create({**DATABRICKS_PROPS, "workspace_inputs": ["/vnet", "host"]})

    provider.delete(created.id, created.outs)

    assert created.id == DATABRICKS_ID
    assert "workspace_inputs" not in created.outs  # only there to order the destroy
    assert fake.calls("DELETE", DATABRICKS_ID)[0].query["forceDeletion"] == "true"
    assert fake.get(DATABRICKS_ID) is None
    assert fake.get(group_id(MANAGED_GROUP)) is None
    assert warnings == []


def test_databricks_managed_group_left_behind_is_named_in_the_destroy_output(fake, warnings):
    seed_databricks(fake)
    fake.request("DELETE", DATABRICKS_ID)  # a plain delete, which leaves the group (see the fake)
    fake.finish_operations()

    DatabricksWorkspaceForceDeleteProvider(client_factory=factory(fake)).delete(
        DATABRICKS_ID, DATABRICKS_PROPS
    )

    (said,) = warnings
    assert f"az group delete --name {MANAGED_GROUP}" in said


# --- what deployed state pins ---------------------------------------------------------------


def test_type_tokens_stay_what_deployed_stacks_recorded():
    assert AML_WORKSPACE_PURGE_TYPE == "pulumi-python:dynamic/purge:AmlWorkspacePurge"
    assert KEY_VAULT_PURGE_TYPE == "pulumi-python:dynamic/purge:KeyVaultPurge"
    assert DATABRICKS_FORCE_DELETE_TYPE == (
        "pulumi-python:dynamic/purge:DatabricksWorkspaceForceDelete"
    )


@pytest.mark.parametrize(
    "provider_class",
    [AmlWorkspacePurgeProvider, KeyVaultPurgeProvider, DatabricksWorkspaceForceDeleteProvider],
)
def test_provider_is_pickled_by_reference_to_components_purge_without_a_client(provider_class):
    blob = serialize_provider(provider_class())

    restored = dill.loads(base64.b64decode(blob))

    assert type(restored) is provider_class
    assert restored._client_factory is None  # no credential or connection lands in the state
    assert b"components.purge" in base64.b64decode(blob)
    assert len(blob) < 200  # a reference, not the class's code


@pytest.mark.parametrize(
    "provider_class",
    [AmlWorkspacePurgeProvider, KeyVaultPurgeProvider, DatabricksWorkspaceForceDeleteProvider],
)
def test_state_written_before_the_move_loads_its_provider_from_teardown_purge(
    provider_class, monkeypatch
):
    # What an older version wrote: the class pickled under the module path it had then.
    monkeypatch.setattr(provider_class, "__module__", "teardown.purge")
    old = base64.b64decode(serialize_provider(provider_class()))
    monkeypatch.undo()
    assert b"teardown.purge" in old

    restored = dill.loads(old)

    assert type(restored) is provider_class


# --- registration and destroy order -----------------------------------------------------------


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.registered.append(args)
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@pytest.fixture
def mocks() -> _Mocks:
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project="databricks-azureml", stack="dev", preview=False)
    return mocks


@pulumi.runtime.test
def test_purge_resources_register_their_type_and_inputs(mocks):
    workspace_purge = AmlWorkspacePurge(
        "aml-purge",
        AmlWorkspacePurgeArgs(SUBSCRIPTION, GROUP, WORKSPACE, purge_on_destroy=True),
    )
    vault_purge = KeyVaultPurge(
        "kv-purge",
        KeyVaultPurgeArgs(SUBSCRIPTION, GROUP, VAULT, "westeurope", purge_on_destroy=False),
    )

    def check(_urns: list[str]) -> None:
        by_name = {args.name: args for args in mocks.registered}
        assert by_name["aml-purge"].typ == AML_WORKSPACE_PURGE_TYPE
        assert by_name["kv-purge"].typ == KEY_VAULT_PURGE_TYPE
        inputs = {
            name: {k: v for k, v in by_name[name].inputs.items() if k != "__provider"}
            for name in ("aml-purge", "kv-purge")
        }
        assert inputs["aml-purge"] == WORKSPACE_PROPS
        assert inputs["kv-purge"] == {**VAULT_PROPS, "purge_on_destroy": False}

    # both registrations are done once both URNs resolve
    return pulumi.Output.all(workspace_purge.urn, vault_purge.urn).apply(check)


@pulumi.runtime.test
def test_workspace_and_vault_options_put_the_purge_between_them_and_their_delete(mocks):
    workspace_purge = AmlWorkspacePurge(
        "aml-purge", AmlWorkspacePurgeArgs(SUBSCRIPTION, GROUP, WORKSPACE, purge_on_destroy=True)
    )
    vault_purge = KeyVaultPurge(
        "kv-purge", KeyVaultPurgeArgs(SUBSCRIPTION, GROUP, "kv", "westeurope", True)
    )

    retained = purged_workspace_options(workspace_purge, purge_on_destroy=True)
    deleted_by_pulumi = purged_workspace_options(workspace_purge, purge_on_destroy=False)
    vault = purged_key_vault_options(vault_purge)

    assert retained.depends_on == [workspace_purge] and retained.retain_on_delete is True
    assert deleted_by_pulumi.retain_on_delete is False
    assert vault.depends_on == [vault_purge] and not vault.retain_on_delete
    return workspace_purge.urn


def test_cloud_comes_from_the_azure_native_config():
    pulumi.runtime.set_all_config({"azure-native:metadataHost": "management.local.azurestack"})
    try:
        assert read_cloud_config() == CloudConfig("public", "management.local.azurestack")
        args = AmlWorkspacePurgeArgs(SUBSCRIPTION, GROUP, WORKSPACE, True)
        assert args.cloud.metadata_host == "management.local.azurestack"
    finally:
        pulumi.runtime.set_all_config({})


@pytest.fixture(scope="module")
def program() -> Any:
    return run_program(DEV, "dev")


def test_program_keeps_the_workspace_purge_after_storage_key_vault_and_insights(program):
    """The purge must depend on what the workspace uses, so those outlive the workspace on
    destroy; without it they go first and the purge fails on a half-deleted workspace."""
    result = program
    workspace_purge = result.one(AML_WORKSPACE_PURGE_TYPE)

    for dependency in (
        "azure-native:storage:StorageAccount",
        "azure-native:keyvault:Vault",
        "azure-native:applicationinsights:Component",
    ):
        assert result.one(dependency).urn in workspace_purge.depends_on, dependency


def test_program_force_deletes_databricks_after_its_dependents_and_before_its_network(program):
    result = program
    force_delete = result.one(DATABRICKS_FORCE_DELETE_TYPE)
    workspace = result.one("azure-native:databricks:Workspace")
    subnets = [r for r in result.resources if r.type == "azure-native:network:Subnet"]

    assert workspace.retain_on_delete is True
    assert force_delete.urn in workspace.depends_on
    for below in (
        result.one("azure-native:resources:ResourceGroup"),
        result.one("azure-native:network:VirtualNetwork"),
        *(s for s in subnets if s.name.endswith(("-host-subnet", "-container-subnet"))),
    ):
        assert below.urn in force_delete.depends_on, below.name
    assert force_delete.inputs["workspace_name"] == workspace.inputs["workspaceName"]
    assert force_delete.inputs["managed_resource_group_name"] == "mlflow-dev-databricks-managed-rg"


def test_program_rejects_an_unknown_cloud_with_one_line_naming_the_key():
    result = run_program({**DEV, "azure-native:environment": "mars"}, "dev")

    assert result.error is not None
    assert "azure-native:environment: mars is not allowed" in result.error
    assert "Traceback" not in result.error


def test_program_passes_the_stacks_cloud_to_every_teardown_resource():
    result = run_program({**DEV, "azure-native:environment": "china"}, "dev")

    for type_ in (AML_WORKSPACE_PURGE_TYPE, KEY_VAULT_PURGE_TYPE, DATABRICKS_FORCE_DELETE_TYPE):
        assert result.one(type_).inputs["environment"] == "china", type_
