"""Purge on destroy: dynamic resources whose delete removes for good what Azure soft-deletes.

A deleted AzureML workspace stays soft-deleted for 14 days and a deleted key vault for its
retention period, and both block their names. With `purgeOnDestroy`, two purge resources finish
the job during `pulumi destroy`, so `pulumi up` with the same names works again at once.

Destroy ordering. Pulumi deletes a resource only after everything that depends on it. So:

    resource group <- storage, key vault, insights, registry <- AmlWorkspacePurge <- workspace
    resource group <- KeyVaultPurge <- key vault

The workspace depends on its purge resource and is `retain_on_delete` (Pulumi only forgets it),
so the purge runs after the workspace's own dependents (Databricks link, role assignments,
private endpoint) are gone, and deletes it with forceToPurge. The purge depends on the
workspace's dependencies, so storage, key vault and insights go only after the workspace did.
The key vault depends on KeyVaultPurge: Pulumi deletes the vault, then the purge purges it. Both
purges take the resource group's name as an Output, so the resource group goes last.

`purge_on_destroy` is an input, not the resource's existence: a purge resource dropped from the
program while its workspace lives would be deleted by the next `pulumi up`, and would purge the
live workspace. Turning purge off updates the flag in place; the delete then does nothing.
Only the target's identity (subscription, resource group, name) forces a replacement, since the
replaced resource's delete purges the old target: that must never be the live one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import dynamic

AML_WORKSPACE_PURGE_TYPE = "pulumi-python:dynamic/purge:AmlWorkspacePurge"
KEY_VAULT_PURGE_TYPE = "pulumi-python:dynamic/purge:KeyVaultPurge"


class _PurgeProvider(dynamic.ResourceProvider):
    """Create records the inputs (no cloud call); delete purges, when purge_on_destroy is on.

    The provider is pickled into the state with dill; it holds nothing but an optional client
    factory (tests inject one), and imports teardown.arm only when it runs.
    """

    serialize_as_secret_always = False  # it captures no secret
    identity: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    def __init__(self, client_factory: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self._client_factory = client_factory

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = {key: props[key] for key in self.inputs}
        return dynamic.CreateResult(id_=self.target_id(outs), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [key for key in self.inputs if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=[key for key in self.identity if key in changed],
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs={key: news[key] for key in self.inputs})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not props.get("purge_on_destroy", True):
            return
        with self._client() as client:
            self.purge(client, props)

    def _client(self) -> Any:
        if self._client_factory is not None:
            return self._client_factory()
        from teardown.arm import ArmClient

        return ArmClient()

    def target_id(self, props: dict[str, Any]) -> str:
        raise NotImplementedError

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        raise NotImplementedError


class AmlWorkspacePurgeProvider(_PurgeProvider):
    identity = ("subscription_id", "resource_group_name", "workspace_name")
    inputs = (*identity, "purge_on_destroy")

    def target_id(self, props: dict[str, Any]) -> str:
        from teardown.arm import aml_workspace_path

        return aml_workspace_path(
            props["subscription_id"], props["resource_group_name"], props["workspace_name"]
        )

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        from teardown.arm import purge_aml_workspace

        purge_aml_workspace(
            client, props["subscription_id"], props["resource_group_name"], props["workspace_name"]
        )


class KeyVaultPurgeProvider(_PurgeProvider):
    # The location is not identity: a deleted vault is found by name within the subscription,
    # and replacing on a location change would purge the vault of the same name.
    identity = ("subscription_id", "resource_group_name", "key_vault_name")
    inputs = (*identity, "location", "purge_on_destroy")

    def target_id(self, props: dict[str, Any]) -> str:
        from teardown.arm import key_vault_path

        return key_vault_path(
            props["subscription_id"], props["resource_group_name"], props["key_vault_name"]
        )

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        from teardown.arm import delete_key_vault, purge_key_vault

        subscription, group, name = (props[key] for key in self.identity)
        delete_key_vault(client, subscription, group, name)  # when Pulumi has not already
        purge_key_vault(client, subscription, props["location"], name, resource_group=group)


@dataclass(frozen=True)
class AmlWorkspacePurgeArgs:
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]  # pass the resource group's Output: it orders the purge
    workspace_name: pulumi.Input[str]
    purge_on_destroy: bool
    # Everything the workspace depends on (storage, key vault, insights, registry): the purge
    # must be deleted before them, so they outlive the workspace.
    workspace_dependencies: Sequence[pulumi.Resource] = ()


class AmlWorkspacePurge(dynamic.Resource, module="purge", name="AmlWorkspacePurge"):
    """On delete, deletes the AzureML workspace with forceToPurge (see the module docstring)."""

    def __init__(
        self, name: str, args: AmlWorkspacePurgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            AmlWorkspacePurgeProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "resource_group_name": args.resource_group_name,
                "workspace_name": args.workspace_name,
                "purge_on_destroy": args.purge_on_destroy,
            },
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=list(args.workspace_dependencies))
            ),
        )


@dataclass(frozen=True)
class KeyVaultPurgeArgs:
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]  # pass the resource group's Output: it orders the purge
    key_vault_name: pulumi.Input[str]
    location: pulumi.Input[str]
    purge_on_destroy: bool


class KeyVaultPurge(dynamic.Resource, module="purge", name="KeyVaultPurge"):
    """On delete, deletes the key vault if it is still there, then purges it."""

    def __init__(
        self, name: str, args: KeyVaultPurgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            KeyVaultPurgeProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "resource_group_name": args.resource_group_name,
                "key_vault_name": args.key_vault_name,
                "location": args.location,
                "purge_on_destroy": args.purge_on_destroy,
            },
            opts,
        )


def purged_workspace_options(
    purge: AmlWorkspacePurge, purge_on_destroy: bool
) -> pulumi.ResourceOptions:
    """Options for the AzureML workspace: it depends on its purge resource, and with purge on,
    Pulumi leaves the delete to that resource (retain_on_delete)."""
    return pulumi.ResourceOptions(depends_on=[purge], retain_on_delete=purge_on_destroy)


def purged_key_vault_options(purge: KeyVaultPurge) -> pulumi.ResourceOptions:
    """Options for the key vault: Pulumi deletes it, then its purge resource purges it."""
    return pulumi.ResourceOptions(depends_on=[purge])
