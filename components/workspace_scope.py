"""What lives inside a workspace is replaced with it.

A cluster, secret scope, secret, library or permission exists inside one Databricks workspace;
an online endpoint, its deployments and its traffic inside one AzureML workspace. When a change
replaces the workspace (its name through `prefix`, its region or resource group), the engine
must replace them as well: otherwise it plans an update of the old cluster id through a
provider that now points at the new workspace (`Cluster ... does not exist`), or keeps in state
an id that no longer exists.

Why `replace_with` (Pulumi >= 3.207, pulumi/pulumi#20693) and not a provider whose identity
follows the workspace: the engine replaces a resource whose provider was replaced only when the
new provider's DiffConfig reports a replacement (pulumi `step_generator.go`, providerChanged),
which is the provider plugin's choice for each config key, not ours; and the AzureML resources
share the stack's one azure-native provider. `replace_with` names the dependency itself and
works for every provider, dynamic resources included.

The Databricks provider takes the same option, so the old cluster is deleted through a provider
still configured for the old workspace before that workspace goes, never through the new one.

Each workspace component exposes `inside_workspace` (the options below); a component that
declares resources inside that workspace takes them and merges them into every such child, and
so does every resource added inside a workspace later.
"""

from __future__ import annotations

import pulumi


def inside(workspace: pulumi.CustomResource) -> pulumi.ResourceOptions:
    """Options for a resource that lives inside `workspace`: replaced whenever it is."""
    return pulumi.ResourceOptions(replace_with=[workspace])


def child_inside(
    parent: pulumi.Resource, inside_workspace: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions:
    """Options for a component's child that lives inside a workspace: under `parent`, replaced
    with the workspace (`inside_workspace`, the workspace component's `inside(...)`)."""
    return pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), inside_workspace)
