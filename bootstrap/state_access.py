"""Who may use the backend: for each configured principal, data-plane roles on exactly the
state container and the secrets key, nothing wider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization
from state_config import Principal

# Azure built-in roles (learn.microsoft.com/azure/role-based-access-control/built-in-roles)
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


def role_assignment_name(scope: str, principal_id: str, role_definition: str) -> str:
    """The same scope, principal and role always give the same assignment name (a UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id}|{role_definition}"))


@dataclass(frozen=True)
class StateAccessArgs:
    subscription_id: pulumi.Input[str]
    container_id: pulumi.Input[str]
    key_id: pulumi.Input[str]
    principals: tuple[Principal, ...]


class StateAccess(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: StateAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml-state:authorization:StateAccess", name, None, opts)
        grants = (
            ("state", args.container_id, STORAGE_BLOB_DATA_CONTRIBUTOR, "read and write state"),
            ("key", args.key_id, KEY_VAULT_CRYPTO_USER, "encrypt and decrypt stack secrets"),
        )
        for principal in args.principals:
            for grant, scope, role, purpose in grants:
                resource_name = f"{name}-{grant}-{principal.object_id}"
                self._assign(resource_name, args, scope, role, principal, purpose)
        self.register_outputs({})

    def _assign(
        self,
        resource_name: str,
        args: StateAccessArgs,
        scope: pulumi.Input[str],
        role: str,
        principal: Principal,
        purpose: str,
    ) -> None:
        authorization.RoleAssignment(
            resource_name,
            scope=scope,
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/",
                args.subscription_id,
                "/providers/Microsoft.Authorization/roleDefinitions/",
                role,
            ),
            principal_id=principal.object_id,
            principal_type=principal.type.value,
            role_assignment_name=pulumi.Output.from_input(scope).apply(
                lambda s: role_assignment_name(s, principal.object_id, role)
            ),
            description=f"Pulumi team backend: {purpose}",
            opts=pulumi.ResourceOptions(parent=self),
        )
