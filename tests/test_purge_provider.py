"""The purge dynamic providers: create/diff/update/delete called directly against the fake ARM,
and the resources as Pulumi registers them under mocks."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.purge import (
    AML_WORKSPACE_PURGE_TYPE,
    KEY_VAULT_PURGE_TYPE,
    AmlWorkspacePurge,
    AmlWorkspacePurgeArgs,
    AmlWorkspacePurgeProvider,
    KeyVaultPurge,
    KeyVaultPurgeArgs,
    KeyVaultPurgeProvider,
    purged_key_vault_options,
    purged_workspace_options,
)
from teardown import arm
from tests.arm_fake import SUBSCRIPTION, FakeArm, arm_error, reply

GROUP = "mlflow-dev-rg"
WORKSPACE_PROPS = {
    "subscription_id": SUBSCRIPTION,
    "resource_group_name": GROUP,
    "workspace_name": "mlflow-dev-mlw",
    "purge_on_destroy": True,
}
VAULT_PROPS = {
    "subscription_id": SUBSCRIPTION,
    "resource_group_name": GROUP,
    "key_vault_name": "mlflow-dev-1a2b3c",
    "location": "westeurope",
    "purge_on_destroy": True,
}
WORKSPACE_PATH = arm.aml_workspace_path(SUBSCRIPTION, GROUP, "mlflow-dev-mlw")
VAULT_PATH = arm.key_vault_path(SUBSCRIPTION, GROUP, "mlflow-dev-1a2b3c")
DELETED_VAULT_PATH = arm.deleted_key_vault_path(SUBSCRIPTION, "westeurope", "mlflow-dev-1a2b3c")
NOT_FOUND = arm_error(404, "ResourceNotFound", "not found")


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    with FakeArm() as server:
        yield server


def test_create_records_the_inputs_without_calling_azure(fake):
    provider = AmlWorkspacePurgeProvider(client_factory=fake.client)

    result = provider.create({**WORKSPACE_PROPS, "__provider": "serialized"})

    assert result.outs == WORKSPACE_PROPS
    assert result.id == WORKSPACE_PATH
    assert fake.requests == []


def test_delete_purges_the_workspace_and_waits_for_it_to_be_gone(fake):
    fake.on("DELETE", WORKSPACE_PATH, reply(202, headers={"Azure-AsyncOperation": "{base}/op/1"}))
    fake.on("GET", "/op/1", reply(200, {"status": "Succeeded"}))
    fake.on("GET", WORKSPACE_PATH, NOT_FOUND)
    provider = AmlWorkspacePurgeProvider(client_factory=fake.client)
    created = provider.create(dict(WORKSPACE_PROPS))

    provider.delete(created.id, created.outs)

    assert [(r.method, r.path) for r in fake.requests] == [
        ("DELETE", WORKSPACE_PATH),
        ("GET", "/op/1"),
        ("GET", WORKSPACE_PATH),
    ]
    assert fake.requests[0].query["forceToPurge"] == "true"


def test_delete_of_a_workspace_already_gone_succeeds(fake):
    fake.on("DELETE", WORKSPACE_PATH, NOT_FOUND)

    AmlWorkspacePurgeProvider(client_factory=fake.client).delete(WORKSPACE_PATH, WORKSPACE_PROPS)

    assert len(fake.requests) == 1


def test_delete_fails_with_the_missing_permission_named(fake):
    fake.on("DELETE", WORKSPACE_PATH, arm_error(403, "AuthorizationFailed", "denied"))
    provider = AmlWorkspacePurgeProvider(client_factory=fake.client)

    with pytest.raises(arm.ArmPermissionError, match="workspaces/delete"):
        provider.delete(WORKSPACE_PATH, WORKSPACE_PROPS)


def test_turning_purge_off_updates_in_place_and_delete_then_leaves_azure_alone(fake):
    provider = AmlWorkspacePurgeProvider(client_factory=fake.client)
    off = {**WORKSPACE_PROPS, "purge_on_destroy": False}

    diff = provider.diff(WORKSPACE_PATH, WORKSPACE_PROPS, off)
    updated = provider.update(WORKSPACE_PATH, WORKSPACE_PROPS, off)
    provider.delete(WORKSPACE_PATH, updated.outs)

    assert diff.changes is True and diff.replaces == []
    assert updated.outs["purge_on_destroy"] is False
    assert fake.requests == []


def test_only_a_new_target_replaces_a_purge_resource():
    workspace = AmlWorkspacePurgeProvider()
    vault = KeyVaultPurgeProvider()

    renamed = workspace.diff("id", WORKSPACE_PROPS, {**WORKSPACE_PROPS, "workspace_name": "x"})
    moved = vault.diff("id", VAULT_PROPS, {**VAULT_PROPS, "location": "northeurope"})
    unchanged = workspace.diff("id", WORKSPACE_PROPS, dict(WORKSPACE_PROPS))

    assert renamed.changes is True and renamed.replaces == ["workspace_name"]
    assert renamed.delete_before_replace is False
    # A replacement's delete purges the old target: never the vault that keeps its name.
    assert moved.changes is True and moved.replaces == []
    assert unchanged.changes is False and unchanged.replaces == []


def test_key_vault_delete_deletes_the_vault_then_purges_it(fake):
    fake.on("DELETE", VAULT_PATH, reply(200))
    deleted = {"name": "mlflow-dev-1a2b3c", "properties": {"vaultId": VAULT_PATH}}
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted), NOT_FOUND)
    fake.on("POST", DELETED_VAULT_PATH + "/purge", reply(200))
    provider = KeyVaultPurgeProvider(client_factory=fake.client)
    created = provider.create(dict(VAULT_PROPS))

    provider.delete(created.id, created.outs)

    assert created.id == VAULT_PATH
    assert [(r.method, r.path) for r in fake.requests] == [
        ("DELETE", VAULT_PATH),
        ("GET", DELETED_VAULT_PATH),
        ("POST", DELETED_VAULT_PATH + "/purge"),
        ("GET", DELETED_VAULT_PATH),
    ]


def test_key_vault_already_deleted_by_pulumi_is_still_purged(fake):
    fake.on("DELETE", VAULT_PATH, NOT_FOUND)
    deleted = {"name": "mlflow-dev-1a2b3c", "properties": {"vaultId": VAULT_PATH}}
    fake.on("GET", DELETED_VAULT_PATH, reply(200, deleted), NOT_FOUND)
    fake.on("POST", DELETED_VAULT_PATH + "/purge", reply(200))

    KeyVaultPurgeProvider(client_factory=fake.client).delete(VAULT_PATH, VAULT_PROPS)

    assert len(fake.calls("POST", DELETED_VAULT_PATH + "/purge")) == 1


@pytest.mark.parametrize("provider_class", [AmlWorkspacePurgeProvider, KeyVaultPurgeProvider])
def test_provider_survives_pulumis_serialization_without_a_client(provider_class):
    blob = serialize_provider(provider_class())

    restored = dill.loads(base64.b64decode(blob))

    assert type(restored) is provider_class
    assert restored._client_factory is None  # no credential or connection lands in the state


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
        AmlWorkspacePurgeArgs(
            subscription_id=SUBSCRIPTION,
            resource_group_name=GROUP,
            workspace_name="mlflow-dev-mlw",
            purge_on_destroy=True,
        ),
    )
    vault_purge = KeyVaultPurge(
        "kv-purge",
        KeyVaultPurgeArgs(
            subscription_id=SUBSCRIPTION,
            resource_group_name=GROUP,
            key_vault_name="mlflow-dev-1a2b3c",
            location="westeurope",
            purge_on_destroy=False,
        ),
    )

    def check(_urns: list[str]) -> None:
        by_name = {args.name: args for args in mocks.registered}
        assert by_name["aml-purge"].typ == AML_WORKSPACE_PURGE_TYPE
        assert by_name["kv-purge"].typ == KEY_VAULT_PURGE_TYPE
        workspace_inputs = {
            k: v for k, v in by_name["aml-purge"].inputs.items() if k != "__provider"
        }
        vault_inputs = {k: v for k, v in by_name["kv-purge"].inputs.items() if k != "__provider"}
        assert workspace_inputs == WORKSPACE_PROPS
        assert vault_inputs == {**VAULT_PROPS, "purge_on_destroy": False}

    # both registrations are done once both URNs resolve
    return pulumi.Output.all(workspace_purge.urn, vault_purge.urn).apply(check)


@pulumi.runtime.test
def test_workspace_and_vault_options_put_the_purge_between_them_and_their_delete(mocks):
    args = AmlWorkspacePurgeArgs(SUBSCRIPTION, GROUP, "mlflow-dev-mlw", purge_on_destroy=True)
    workspace_purge = AmlWorkspacePurge("aml-purge", args)
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
