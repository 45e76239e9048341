"""Databricks cluster rules: bounded auto-termination, credentials only as secret references and
never attachable by every workspace user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .common import (
    DATABRICKS_CLUSTER,
    MISSING,
    UNKNOWN,
    Declared,
    StackViolation,
    elements,
    keys_in,
    known_strings,
    lookup,
)

SECRET_NAME_PARTS = ("SECRET", "TOKEN", "PASSWORD")
# The whole value, nothing around it: Databricks resolves a reference only when the value starts
# with `{{secrets/` and ends with `}}`. Scope names: letters, digits, - _ @ . (at most 128); key
# names: letters, digits, - _ . (at most 128) (Databricks docs: secret scopes, secrets).
SECRET_REFERENCE = re.compile(r"\{\{secrets/[A-Za-z0-9_.@-]{1,128}/[A-Za-z0-9_.-]{1,128}\}\}")

# Databricks accepts 10..10000 minutes, or 0 for "never terminate".
MIN_AUTOTERMINATION_MINUTES = 10
MAX_AUTOTERMINATION_MINUTES = 10000
DEFAULT_AUTOTERMINATION_LIMIT = 120
AUTOTERMINATION_LIMIT_KEY = "maxAutoterminationMinutes"


def autotermination_limit(config: Mapping[str, Any]) -> int:
    """The largest auto-termination allowed, from the policy's config (default 120 minutes).

    Policy config reaches the pack as a protobuf Struct, whose numbers are floats: 60.0 means 60.
    """
    value = config.get(AUTOTERMINATION_LIMIT_KEY, DEFAULT_AUTOTERMINATION_LIMIT)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_AUTOTERMINATION_MINUTES <= value <= MAX_AUTOTERMINATION_MINUTES
    ):
        raise ValueError(
            f"policy config {AUTOTERMINATION_LIMIT_KEY}: {value!r} is not allowed; expected a "
            f"whole number of minutes from {MIN_AUTOTERMINATION_MINUTES} to "
            f"{MAX_AUTOTERMINATION_MINUTES}"
        )
    return value


def cluster_auto_termination(props: Mapping[str, Any], limit: int) -> list[str]:
    """The cluster terminates itself when idle, after at most `limit` minutes."""
    value = lookup(props, "autoterminationMinutes")
    expected = f"expected {MIN_AUTOTERMINATION_MINUTES} to {limit} minutes"
    if value is UNKNOWN:
        return []
    if value is MISSING:
        return [
            f"autoterminationMinutes is not set (the provider then applies its own default); "
            f"{expected}"
        ]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"autoterminationMinutes is {value!r}, not a number; {expected}"]
    if value == 0:
        return [
            f"autoterminationMinutes is 0, which disables auto-termination: an idle cluster "
            f"runs and bills until stopped by hand; {expected}"
        ]
    if value < MIN_AUTOTERMINATION_MINUTES:
        return [
            f"autoterminationMinutes is {value:g}, below Databricks' minimum of "
            f"{MIN_AUTOTERMINATION_MINUTES}; {expected}"
        ]
    if value > limit:
        return [
            f"autoterminationMinutes is {value:g}, above this pack's limit of {limit} minutes "
            f"(policy config {AUTOTERMINATION_LIMIT_KEY}); {expected}"
        ]
    return []


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    upper = name.upper()
    return any(part in upper for part in SECRET_NAME_PARTS)


def cluster_secret_env_vars(props: Mapping[str, Any]) -> list[str]:
    """Env vars named like credentials hold a `{{secrets/<scope>/<key>}}` reference, not a value.

    The value itself never appears in a message.
    """
    env = lookup(props, "sparkEnvVars")
    violations = []
    for name in keys_in(env):
        if not is_secret_name(name):
            continue
        value = lookup(env, name)
        if value is UNKNOWN:
            continue
        if isinstance(value, str) and SECRET_REFERENCE.fullmatch(value):
            continue
        violations.append(
            f"sparkEnvVars.{name} is not a secret reference; a variable whose name contains "
            f"{', '.join(SECRET_NAME_PARTS[:-1])} or {SECRET_NAME_PARTS[-1]} must be "
            "'{{secrets/<scope>/<key>}}', so the value stays in a Databricks secret scope "
            "(the value given is not shown)"
        )
    return violations


# --- Stack: who can read the cluster's credentials --------------------------------------------

DATABRICKS_PERMISSIONS = "databricks:index/permissions:Permissions"
WORKSPACE_USERS_GROUP = "users"  # every user of the workspace is a member
# Each of these includes CAN ATTACH TO (Databricks cluster ACLs).
ATTACHING_PERMISSION_LEVELS = ("CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE")


def _grants_on_cluster(permissions: Declared, cluster: Declared) -> bool:
    """Whether a Permissions resource sets the ACL of `cluster`.

    By value when both ids are known (`pulumi up`); in preview, when the cluster id is still
    unknown, by the Permissions resource's dependency on the cluster.
    """
    target = lookup(permissions.props, "clusterId")
    if target is MISSING:
        return False
    ids = known_strings(cluster.props, "id", "clusterId")
    if isinstance(target, str) and target in ids:
        return True
    unresolved = target is UNKNOWN or not ids
    return unresolved and bool(cluster.urn) and cluster.urn in permissions.dependencies


def _workspace_users_grants(permissions: Declared) -> list[str]:
    """The permission levels the Permissions resource gives the workspace-wide `users` group."""
    levels = []
    for control in elements(permissions.props, "accessControls"):
        group = lookup(control, "groupName")
        level = lookup(control, "permissionLevel")
        if (
            isinstance(group, str)
            and group.lower() == WORKSPACE_USERS_GROUP
            and isinstance(level, str)
            and level.upper() in ATTACHING_PERMISSION_LEVELS
        ):
            levels.append(level.upper())
    return levels


def cluster_credentials_not_readable_by_all_users(
    resources: Sequence[Declared],
) -> list[StackViolation]:
    """A cluster whose sparkEnvVars carry a credential (a name with SECRET, TOKEN or PASSWORD,
    such as AZURE_CLIENT_SECRET) is not attachable by the workspace-wide `users` group.

    Anyone who can attach to a cluster can read its environment variables, secret references
    resolved (Databricks: "Use a secret in a Spark configuration property or environment
    variable"). The grant is a separate `databricks.Permissions` resource, joined to the cluster
    by its clusterId.
    """
    clusters = [r for r in resources if r.resource_type == DATABRICKS_CLUSTER]
    grants = [r for r in resources if r.resource_type == DATABRICKS_PERMISSIONS]
    violations = []
    for cluster in clusters:
        credentials = [
            name for name in keys_in(lookup(cluster.props, "sparkEnvVars")) if is_secret_name(name)
        ]
        if not credentials:
            continue
        for permissions in grants:
            levels = _workspace_users_grants(permissions)
            if not levels or not _grants_on_cluster(permissions, cluster):
                continue
            violations.append(
                StackViolation(
                    f"Permissions {permissions.name!r} give the workspace-wide "
                    f"'{WORKSPACE_USERS_GROUP}' group {' and '.join(levels)} on cluster "
                    f"{cluster.name!r}, whose sparkEnvVars carry {', '.join(credentials)}: "
                    "anyone who can attach to a cluster can read its environment variables. "
                    "Expected grants only to the groups or users who may read the credential "
                    "(config cluster.users), or no credential in the cluster's environment",
                    permissions.urn or None,
                )
            )
    return violations
