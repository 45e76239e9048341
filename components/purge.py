"""Teardown on destroy: dynamic resources whose delete finishes what `pulumi destroy` leaves.

A deleted AzureML workspace stays soft-deleted for 14 days and a deleted key vault for its
retention period, both blocking their names; a deleted Databricks workspace may leave its
managed resource group behind. Three resources finish the job during `pulumi destroy`, so
`pulumi up` with the same names works again at once.

Destroy ordering. Pulumi deletes a resource only after everything that depends on it. So:

    resource group <- storage, key vault, insights, registry <- AmlWorkspacePurge <- workspace
    resource group <- KeyVaultPurge <- key vault
    resource group, VNet, subnets, AzureML <- DatabricksWorkspaceForceDelete <- Databricks

Each workspace depends on its resource here and is `retain_on_delete` (Pulumi only forgets
it), so the delete below runs after the workspace's own dependents (links, role assignments,
private endpoints, the cluster) are gone, and before what the workspace sits on. The key vault
depends on KeyVaultPurge: Pulumi deletes the vault, then the purge purges it. Every resource
takes the resource group's name as an Output, so the group goes last.

`purge_on_destroy` is an input, not the resource's existence: a purge resource dropped from the
program while its workspace lives would be deleted by the next `pulumi up`, and would purge the
live workspace. Turning purge off updates the flag in place; the delete then does nothing.
Only the target's identity (subscription, resource group, name) forces a replacement, since the
replaced resource's delete acts on the old target: that must never be the live one.

Deployed state records each resource's type token and, through dill, the module path of its
provider class (`components.purge`): both are pinned by tests, since `pulumi destroy` loads the
provider from that path. State written before this module moved names `teardown.purge`, which
still resolves to this module (teardown/purge.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi import dynamic

from arm.cloud import CloudConfig, read_cloud_config
from arm.provider import ArmProvider, cloud_inputs

AML_WORKSPACE_PURGE_TYPE = "pulumi-python:dynamic/purge:AmlWorkspacePurge"
KEY_VAULT_PURGE_TYPE = "pulumi-python:dynamic/purge:KeyVaultPurge"
DATABRICKS_FORCE_DELETE_TYPE = "pulumi-python:dynamic/purge:DatabricksWorkspaceForceDelete"
_CLOUD_INPUTS = ("environment", "metadata_host")


class _PurgeProvider(ArmProvider):
    """Create records the inputs (no cloud call); delete acts, when purge_on_destroy is on.

    Pickled into the state with dill: it holds nothing but an optional client factory (tests
    inject one) and imports arm.client only when it runs.
    """

    identity: tuple[str, ...] = ()  # subscription, resource group, name
    resource_type = ""  # ARM's, of the target

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = {key: props[key] for key in self.inputs if key in props}
        return dynamic.CreateResult(id_=self.target_id(outs), outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs={key: news[key] for key in self.inputs if key in news})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if not props.get("purge_on_destroy", True):
            return
        with self.client(props) as client:
            self.purge(client, props)

    def target_id(self, props: dict[str, Any]) -> str:
        from arm.client import resource_id

        subscription, group, name = (props[key] for key in self.identity)
        return resource_id(subscription, group, self.resource_type, name)

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        raise NotImplementedError


class AmlWorkspacePurgeProvider(_PurgeProvider):
    identity = ("subscription_id", "resource_group_name", "workspace_name")
    inputs = (*identity, "purge_on_destroy", *_CLOUD_INPUTS)
    resource_type = "Microsoft.MachineLearningServices/workspaces"

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        from arm.client import purge_aml_workspace

        group, name = props["resource_group_name"], props["workspace_name"]
        if not purge_aml_workspace(client, group, name):
            pulumi.log.warn(
                f"AzureML workspace {name} in {group} was not there to purge. If it was "
                "soft-deleted earlier, Azure answers 404 yet keeps its name for 14 days "
                "(Azure/azure-cli #33756): run `make teardown-check`, and permanently delete it "
                "in the portal (Azure Machine Learning > Recently deleted) if listed."
            )


class KeyVaultPurgeProvider(_PurgeProvider):
    # The location is not identity: a deleted vault is found by name within the subscription,
    # and replacing on a location change would purge the vault of the same name.
    identity = ("subscription_id", "resource_group_name", "key_vault_name")
    inputs = (*identity, "location", "purge_on_destroy", *_CLOUD_INPUTS)
    resource_type = "Microsoft.KeyVault/vaults"

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        from arm.client import delete_key_vault, purge_key_vault

        group, name = props["resource_group_name"], props["key_vault_name"]
        delete_key_vault(client, group, name)  # when Pulumi has not already
        result = purge_key_vault(client, props["location"], name, resource_group=group)
        if result.outcome == "protected":
            # Purge protection is irreversible (keyvault.json, enablePurgeProtection): the
            # destroy still completes, and says what stays.
            pulumi.log.warn(
                f"key vault {name} has purge protection, so Azure keeps it, and its name, "
                f"until {result.scheduled_purge_date or 'its retention period ends'}. A stack "
                "created with purgeOnDestroy: false keeps that protection for good; a new "
                "stack needs another key vault name until then."
            )
        elif result.outcome == "other_group":
            pulumi.log.warn(
                f"a deleted key vault named {name} exists, but it came from another resource "
                f"group than {group}: left alone"
            )


class DatabricksWorkspaceForceDeleteProvider(_PurgeProvider):
    identity = ("subscription_id", "resource_group_name", "workspace_name")
    inputs = (*identity, "managed_resource_group_name", *_CLOUD_INPUTS)
    resource_type = "Microsoft.Databricks/workspaces"

    def purge(self, client: Any, props: dict[str, Any]) -> None:
        from arm.client import force_delete_databricks_workspace, get_resource_group

        force_delete_databricks_workspace(
            client, props["resource_group_name"], props["workspace_name"]
        )
        managed = props.get("managed_resource_group_name")
        if managed and get_resource_group(client, managed) is not None:
            pulumi.log.warn(
                f"the Databricks managed resource group {managed} is still there after the "
                f"workspace was deleted; remove it with `az group delete --name {managed}`"
            )


@dataclass(frozen=True)
class AmlWorkspacePurgeArgs:
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]  # pass the resource group's Output: it orders the purge
    workspace_name: pulumi.Input[str]
    purge_on_destroy: bool
    # Everything the workspace depends on (storage, key vault, insights, registry): the purge
    # must be deleted before them, so they outlive the workspace.
    workspace_dependencies: Sequence[pulumi.Resource] = ()
    # The cloud the stack deploys to, as azure-native reads it from the stack's config.
    cloud: CloudConfig = field(default_factory=read_cloud_config)


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
                **cloud_inputs(args.cloud),
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
    # The cloud the stack deploys to, as azure-native reads it from the stack's config.
    cloud: CloudConfig = field(default_factory=read_cloud_config)


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
                **cloud_inputs(args.cloud),
            },
            opts,
        )


@dataclass(frozen=True)
class DatabricksWorkspaceForceDeleteArgs:
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]  # the resource group's Output: it orders the delete
    workspace_name: pulumi.Input[str]
    managed_resource_group_name: pulumi.Input[str]
    # The workspace's inputs that come from other resources (VNet id, subnet names, AzureML
    # id): passed on only so that this resource, like the workspace, is deleted before them.
    workspace_inputs: Sequence[pulumi.Input[str]] = ()
    # The cloud the stack deploys to, as azure-native reads it from the stack's config.
    cloud: CloudConfig = field(default_factory=read_cloud_config)


class DatabricksWorkspaceForceDelete(
    dynamic.Resource, module="purge", name="DatabricksWorkspaceForceDelete"
):
    """On delete, deletes the Databricks workspace with forceDeletion=true, which removes its
    managed resource group with it."""

    def __init__(
        self,
        name: str,
        args: DatabricksWorkspaceForceDeleteArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            DatabricksWorkspaceForceDeleteProvider(),
            name,
            {
                "subscription_id": args.subscription_id,
                "resource_group_name": args.resource_group_name,
                "workspace_name": args.workspace_name,
                "managed_resource_group_name": args.managed_resource_group_name,
                "workspace_inputs": list(args.workspace_inputs),
                **cloud_inputs(args.cloud),
            },
            opts,
        )


def purged_workspace_options(
    purge: AmlWorkspacePurge | DatabricksWorkspaceForceDelete, purge_on_destroy: bool = True
) -> pulumi.ResourceOptions:
    """Options for a workspace: it depends on its teardown resource, and with the flag on,
    Pulumi leaves the delete to that resource (retain_on_delete)."""
    return pulumi.ResourceOptions(depends_on=[purge], retain_on_delete=purge_on_destroy)


def purged_key_vault_options(purge: KeyVaultPurge) -> pulumi.ResourceOptions:
    """Options for the key vault: Pulumi deletes it, then its purge resource purges it."""
    return pulumi.ResourceOptions(depends_on=[purge])
