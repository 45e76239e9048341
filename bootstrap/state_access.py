"""Who may use the backend, and what the workflow's two identities may do in the subscription.

Every configured principal and both CI identities get data-plane roles on exactly the state
container and the secrets key, nothing wider. Previews need write access to the container too:
the CLI's self-managed backend takes the stack's lock, a blob, for a preview as for an update
(pulumi pkg/backend/diy/backend.go, `Preview` calls `Lock`).

The preview identity, which runs the code of any pull-request branch, reads the subscription
(Reader); only the deploy identity, reachable from the protected GitHub environments alone, may
create resources and assign roles.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization
from state_config import CiIdentities, Principal, PrincipalType

# Azure built-in roles (learn.microsoft.com/azure/role-based-access-control/built-in-roles)
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
# Role Based Access Control Administrator
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"

AZUREML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"

# On the subscription, per CI identity. The deploy identity assigns roles too (the main stack
# gives its service principal and `access.dataScientists` "AzureML Data Scientist" and Storage
# Blob Data Reader, `access.readers` Reader, the batch cluster Storage Blob Data Contributor on
# the workspace's storage), but only the roles the main stack assigns: unconditioned, RBAC
# Administrator could make anyone, itself included, Owner.
PREVIEW_ROLES = ((READER, "preview pull requests (read only)"),)
DEPLOY_ROLES = (
    (CONTRIBUTOR, "deploy the main stack"),
    (RBAC_ADMINISTRATOR, "assign the main stack's roles, and no other"),
)
DEPLOY_ASSIGNABLE_ROLES = (
    AZUREML_DATA_SCIENTIST,
    READER,
    STORAGE_BLOB_DATA_READER,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
)


def assignable_roles_condition(roles: tuple[str, ...]) -> str:
    """An ABAC condition that lets RBAC Administrator create and delete assignments of `roles`
    only (Learn, "Delegate Azure role assignment management to others with conditions")."""
    guids = ", ".join(sorted(set(roles)))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )


def role_assignment_name(scope: str, principal_id: str, role_definition: str) -> str:
    """The same scope, principal and role always give the same assignment name (a UUID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id}|{role_definition}"))


@dataclass(frozen=True)
class StateAccessArgs:
    subscription_id: pulumi.Input[str]
    container_id: pulumi.Input[str]
    key_id: pulumi.Input[str]
    principals: tuple[Principal, ...]
    ci: CiIdentities | None = None


def backend_users(args: StateAccessArgs) -> tuple[Principal, ...]:
    """Whoever reads and writes state: the configured principals, then the CI identities not
    among them."""
    users = list(args.principals)
    if args.ci is not None:
        for object_id in (args.ci.preview, args.ci.deploy):
            if all(p.object_id != object_id for p in users):
                users.append(Principal(object_id, PrincipalType.SERVICE_PRINCIPAL))
    return tuple(users)


class StateAccess(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: StateAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("databricks-azureml-state:authorization:StateAccess", name, None, opts)
        grants = (
            ("state", args.container_id, STORAGE_BLOB_DATA_CONTRIBUTOR, "read and write state"),
            ("key", args.key_id, KEY_VAULT_CRYPTO_USER, "encrypt and decrypt stack secrets"),
        )
        # No role on the account: the one account-scope action the backend could use,
        # generateUserDelegationKey, would not help; see bootstrap/README.md, "Signed links".
        for principal in backend_users(args):
            for grant, scope, role, purpose in grants:
                resource_name = f"{name}-{grant}-{principal.object_id}"
                self._assign(resource_name, args, scope, role, principal, purpose)
        if args.ci is not None:
            subscription = pulumi.Output.concat("/subscriptions/", args.subscription_id)
            for grant, object_id, roles in (
                ("preview", args.ci.preview, PREVIEW_ROLES),
                ("deploy", args.ci.deploy, DEPLOY_ROLES),
            ):
                principal = Principal(object_id, PrincipalType.SERVICE_PRINCIPAL)
                for role, purpose in roles:
                    resource_name = f"{name}-{grant}-{role[:8]}-{object_id}"
                    condition = None
                    if role == RBAC_ADMINISTRATOR:
                        assignable = (*DEPLOY_ASSIGNABLE_ROLES, *args.ci.assignable_roles)
                        condition = assignable_roles_condition(assignable)
                    self._assign(
                        resource_name, args, subscription, role, principal, purpose, condition
                    )
        self.register_outputs({})

    def _assign(
        self,
        resource_name: str,
        args: StateAccessArgs,
        scope: pulumi.Input[str],
        role: str,
        principal: Principal,
        purpose: str,
        condition: str | None = None,
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
            condition=condition,
            condition_version="2.0" if condition else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
