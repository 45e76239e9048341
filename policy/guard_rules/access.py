"""Role assignments that would let someone read the service principal's secret.

Azure Databricks makes whoever holds Contributor or Owner on the workspace resource (directly or
inherited from its resource group or subscription) a workspace admin on first login (Learn,
"Manage users: workspace admins"), and workspace admins can read every secret scope, the one
holding the service principal's client secret included. So the stack grants its teams other
roles (AzureML Data Scientist, Storage Blob Data Reader, Reader), never these at those scopes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .common import lookup

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# Built-in role ids (Learn, "Azure built-in roles", General).
WORKSPACE_ADMIN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
}
_ABOVE_WORKSPACE = re.compile(
    r"/subscriptions/[^/]+(/resourcegroups/[^/]+)?"
    r"|/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.databricks/workspaces/[^/]+",
)


def role_assignment_not_databricks_admin(props: Mapping[str, Any]) -> list[str]:
    """No Owner or Contributor on a subscription, a resource group or a Databricks workspace."""
    definition = lookup(props, "roleDefinitionId")
    scope = lookup(props, "scope")
    if not isinstance(definition, str) or not isinstance(scope, str):
        return []
    role = WORKSPACE_ADMIN_ROLES.get(definition.rstrip("/").rsplit("/", 1)[-1].lower())
    if role is None or not _ABOVE_WORKSPACE.fullmatch(scope.lower().rstrip("/")):
        return []
    return [
        f"roleDefinitionId is {role} on scope {scope}: Azure Databricks makes a workspace's "
        f"{role}s workspace admins, who can read every secret scope (the service principal's "
        "secret too); expected a narrower role (AzureML Data Scientist on the AzureML "
        "workspace, Reader on the group)"
    ]
