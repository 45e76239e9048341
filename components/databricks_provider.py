"""The Databricks provider for the workspace this stack creates."""

from __future__ import annotations

import pulumi
import pulumi_databricks as databricks


def workspace_provider(
    name: str,
    workspace_url: pulumi.Input[str],
    workspace_resource_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None = None,
) -> databricks.Provider:
    """A provider that reaches the new workspace with the deployer's Azure login.

    `workspace_url` already carries `https://`; `workspace_resource_id` is the workspace's ARM
    id (not its numeric id), which lets the provider authenticate through Azure.
    """
    return databricks.Provider(
        name,
        host=workspace_url,
        azure_workspace_resource_id=workspace_resource_id,
        opts=opts,
    )
