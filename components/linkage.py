"""Linkage from Databricks to AzureML: the service principal's data-plane role on the workspace.

Dual tracking's link itself is the Databricks workspace parameter `amlWorkspaceId`
(components/databricks_workspace.py), set from the AzureML workspace id in __main__.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

AZUREML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"


def role_assignment_name(scope: str, principal_id: str, role_definition: str) -> str:
    """The same scope, principal and role always give the same assignment name (a UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id}|{role_definition}"))


@dataclass(frozen=True)
class LinkageArgs:
    subscription_id: pulumi.Input[str]
    aml_workspace_id: pulumi.Input[str]
    service_principal_object_id: str


class Linkage(pulumi.ComponentResource):
    """Grants the cluster's service principal "AzureML Data Scientist" on the AzureML workspace."""

    role_assignment_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: LinkageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml:linkage:Linkage", name, None, opts)
        role_definition_id = pulumi.Output.concat(
            "/subscriptions/", args.subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/", AZUREML_DATA_SCIENTIST,
        )  # fmt: skip
        assignment = authorization.RoleAssignment(
            f"{name}-azureml-data-scientist",
            scope=args.aml_workspace_id,
            role_definition_id=role_definition_id,
            principal_id=args.service_principal_object_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_assignment_name=pulumi.Output.from_input(args.aml_workspace_id).apply(
                lambda scope: role_assignment_name(
                    scope, args.service_principal_object_id, AZUREML_DATA_SCIENTIST
                )
            ),
            description="Lets the Databricks tracking cluster log runs and models to AzureML",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_assignment_id = assignment.id
        self.register_outputs({"role_assignment_id": self.role_assignment_id})
