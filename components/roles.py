"""An Azure built-in role for one principal at one scope, named the same on every run."""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization


def role_assignment_name(scope: str, principal_id: str, role_definition: str) -> str:
    """The same scope, principal and role always give the same assignment name (a UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id}|{role_definition}"))


def assign_role(
    name: str,
    *,
    subscription_id: pulumi.Input[str],
    role: str,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    principal_type: pulumi.Input[str] = authorization.PrincipalType.SERVICE_PRINCIPAL,
    description: str | None = None,
) -> authorization.RoleAssignment:
    """`role` (a built-in role's GUID) for `principal_id` on `scope`."""
    definition = pulumi.Output.concat(
        "/subscriptions/", subscription_id,
        "/providers/Microsoft.Authorization/roleDefinitions/", role,
    )  # fmt: skip
    return authorization.RoleAssignment(
        name,
        scope=scope,
        role_definition_id=definition,
        principal_id=principal_id,
        principal_type=principal_type,
        role_assignment_name=pulumi.Output.all(scope, principal_id).apply(
            lambda ids: role_assignment_name(ids[0], ids[1], role)
        ),
        description=description,
        opts=opts,
    )
