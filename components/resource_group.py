"""The resource group that holds everything the stack makes."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import resources


@dataclass(frozen=True)
class ResourceGroupArgs:
    name: str
    location: str
    protect: bool = False


class ResourceGroup(pulumi.ComponentResource):
    name: pulumi.Output[str]
    id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ResourceGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:resources:ResourceGroup", name, None, opts)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.name,
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.name = group.name
        self.id = group.id
        self.register_outputs({"name": self.name, "id": self.id})
