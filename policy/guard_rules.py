"""Rules of the databricks-azureml guard, as plain functions over a resource's properties.

Each rule takes the properties the policy engine shows for a resource (wire names, camelCase, as in
the ARM / Databricks API) and returns the violations it finds as messages that say what is wrong and
what is expected. An empty list means compliant. No Pulumi engine is needed to call them: tests feed
plain dicts, `guard_policies` wraps them into CrossGuard policies.

Unknown values: during `pulumi preview` an input computed from another resource's output (the VNet
id, a secret scope's name) is unknown. The engine hands those to policies as proxies that raise
`UnknownValueError` on access (or, from plain dicts, as the engine's sentinel strings). `lookup`
turns both into `UNKNOWN`. A rule that only needs a property to be *set* accepts `UNKNOWN` (it is
set, its value comes later); a rule that needs a *value* skips it: resource policies run again in
`pulumi up` with every input resolved, and stack policies then see the real outputs.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

# Type tokens, as declared by `@pulumi.type_token` in the SDKs
# (pulumi-azure-native 3.29, pulumi-databricks 1.118).
DATABRICKS_WORKSPACE = "azure-native:databricks:Workspace"
AML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ONLINE_ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
KEY_VAULT = "azure-native:keyvault:Vault"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DATABRICKS_CLUSTER = "databricks:index/cluster:Cluster"
AZURE_NATIVE_PREFIX = "azure-native:"

# The group id of an AzureML workspace's private endpoint (seed: private link for the workspace).
AML_PRIVATE_LINK_GROUP = "amlworkspace"
REQUIRED_TAGS = ("environment", "managed-by")
SECRET_NAME_PARTS = ("SECRET", "TOKEN", "PASSWORD")
# The whole value, nothing around it: Databricks resolves a reference only when the value starts
# with `{{secrets/` and ends with `}}`. Scope names: letters, digits, - _ @ . (at most 128); key
# names: letters, digits, - _ . (at most 128) (Databricks docs: secret scopes, secrets).
SECRET_REFERENCE = re.compile(r"\{\{secrets/[A-Za-z0-9_.@-]{1,128}/[A-Za-z0-9_.-]{1,128}\}\}")
ACCEPTED_TLS_VERSIONS = ("TLS1_2", "TLS1_3")

# Databricks accepts 10..10000 minutes, or 0 for "never terminate".
MIN_AUTOTERMINATION_MINUTES = 10
MAX_AUTOTERMINATION_MINUTES = 10000
DEFAULT_AUTOTERMINATION_LIMIT = 120
AUTOTERMINATION_LIMIT_KEY = "maxAutoterminationMinutes"

_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


class _Marker:
    def __init__(self, label: str) -> None:
        self._label = label

    def __repr__(self) -> str:
        return self._label


MISSING = _Marker("MISSING")
"""The property is absent or null."""
UNKNOWN = _Marker("UNKNOWN")
"""The property is set, but its value is only known after the resources it depends on exist."""


def lookup(props: Any, *path: str | int) -> Any:
    """The value at `path` in `props`, or MISSING / UNKNOWN.

    Works on plain dicts and lists and on the policy engine's unknown-checking proxies; never raises
    for an absent or unknown value.
    """
    current = props
    for key in path:
        if isinstance(key, int):
            if not isinstance(current, Sequence) or isinstance(current, str):
                return MISSING
            if not 0 <= key < len(current):
                return MISSING
        elif not isinstance(current, Mapping):
            return MISSING
        try:
            current = current[key]
        except KeyError:
            return MISSING
        except UnknownValueError:
            return UNKNOWN
        if current is None:
            return MISSING
        if isinstance(current, str) and current in _UNKNOWN_SENTINELS:
            return UNKNOWN
    return current


def _elements(props: Any, *path: str) -> list[Any]:
    """The elements of the list at `path` (each possibly UNKNOWN); [] when absent or unknown."""
    value = lookup(props, *path)
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [lookup(value, index) for index in range(len(value))]


def _keys(mapping: Any) -> list[str]:
    # Iterating a proxy yields its keys without touching (possibly unknown) values.
    return list(mapping) if isinstance(mapping, Mapping) else []


def _is_set(value: Any) -> bool:
    if value is MISSING:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _shown(value: Any) -> str:
    return "not set" if value is MISSING else repr(value)


# --- Databricks workspace ---------------------------------------------------------------------

VNET_INJECTION_PARAMETERS = (
    ("customVirtualNetworkId", "the id of the VNet the clusters run in"),
    ("customPublicSubnetName", "the name of the host (public) subnet"),
    ("customPrivateSubnetName", "the name of the container (private) subnet"),
)


def databricks_workspace_vnet_injection(props: Mapping[str, Any]) -> list[str]:
    """The workspace is VNet-injected: the three custom network parameters are set."""
    return [
        f"parameters.{name}.value is not set; a VNet-injected workspace needs it: {meaning} "
        "(customVirtualNetworkId, customPublicSubnetName and customPrivateSubnetName together)"
        for name, meaning in VNET_INJECTION_PARAMETERS
        if not _is_set(lookup(props, "parameters", name, "value"))
    ]


def databricks_workspace_no_public_ip(props: Mapping[str, Any]) -> list[str]:
    """Secure cluster connectivity: `parameters.enableNoPublicIp.value` is true."""
    value = lookup(props, "parameters", "enableNoPublicIp", "value")
    if value is UNKNOWN or value is True:
        return []
    return [
        f"parameters.enableNoPublicIp.value is {_shown(value)}; expected true, so cluster nodes "
        "get no public IP addresses (secure cluster connectivity)"
    ]


def databricks_workspace_premium_sku(props: Mapping[str, Any]) -> list[str]:
    """The workspace uses the premium SKU (VNet injection, secret ACLs and RBAC need it)."""
    value = lookup(props, "sku", "name")
    if value is UNKNOWN or (isinstance(value, str) and value.lower() == "premium"):
        return []
    return [
        f"sku.name is {_shown(value)}; expected 'premium' (the standard and trial SKUs lack "
        "access control and secure cluster connectivity)"
    ]


# --- AzureML workspace -------------------------------------------------------------------------


def aml_workspace_system_identity(props: Mapping[str, Any]) -> list[str]:
    """The AzureML workspace has a system-assigned managed identity."""
    value = lookup(props, "identity", "type")
    if value is UNKNOWN:
        return []
    if isinstance(value, str):
        kinds = {part.strip().lower() for part in value.split(",")}
        if "systemassigned" in kinds:
            return []
    return [
        f"identity.type is {_shown(value)}; expected 'SystemAssigned' (or "
        "'SystemAssigned,UserAssigned'): the workspace reaches its storage account, key vault "
        "and registry with its system-assigned identity"
    ]


# --- Storage account and key vault -------------------------------------------------------------


def storage_account_minimum_tls(props: Mapping[str, Any]) -> list[str]:
    """The storage account refuses TLS below 1.2."""
    value = lookup(props, "minimumTlsVersion")
    if value is UNKNOWN or value in ACCEPTED_TLS_VERSIONS:
        return []
    default = " (the API then defaults to TLS1_0)" if value is MISSING else ""
    return [f"minimumTlsVersion is {_shown(value)}{default}; expected 'TLS1_2'"]


def storage_account_no_public_blob_access(props: Mapping[str, Any]) -> list[str]:
    """No container of the storage account can be made public."""
    value = lookup(props, "allowBlobPublicAccess")
    if value is UNKNOWN or value is False:
        return []
    return [
        f"allowBlobPublicAccess is {_shown(value)}; expected false, set explicitly, so no blob "
        "container can allow anonymous public read access"
    ]


def key_vault_rbac_authorization(props: Mapping[str, Any]) -> list[str]:
    """The key vault authorizes data actions with Azure RBAC, not access policies."""
    value = lookup(props, "properties", "enableRbacAuthorization")
    if value is UNKNOWN or value is True:
        return []
    default = " (the API then defaults to false: access policies)" if value is MISSING else ""
    return [f"properties.enableRbacAuthorization is {_shown(value)}{default}; expected true"]


def key_vault_soft_delete(props: Mapping[str, Any]) -> list[str]:
    """Soft delete stays on.

    Unset is accepted: Azure turns soft delete on for every new vault when the property is absent,
    and it cannot be turned off afterwards. Only an explicit false is a violation.
    """
    value = lookup(props, "properties", "enableSoftDelete")
    if value is False:
        return [
            "properties.enableSoftDelete is False; expected true (or unset, which Azure "
            "treats as true), so a deleted vault and its secrets can be recovered"
        ]
    return []


# --- Databricks cluster ------------------------------------------------------------------------


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
    for name in _keys(env):
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


# --- Tags --------------------------------------------------------------------------------------


@cache
def azure_native_accepts_tags(resource_type: str) -> bool | None:
    """Whether pulumi-azure-native's resource `resource_type` takes `tags`; None if it isn't known.

    The answer comes from the SDK itself (the `<Type>Args` class has a `tags` property) rather than
    from a hand-kept list: a list silently skips every resource type added to the program later,
    while the SDK knows all of them (Subnet, RoleAssignment, PrivateDnsZoneGroup take no tags; a
    VNet, a NAT gateway, a private DNS zone do). The price is that the pack's requirements include
    pulumi-azure-native, in the same major version as the program's.
    """
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != AZURE_NATIVE_PREFIX.rstrip(":"):
        return None
    module_name, type_name = parts[1].replace("/", "."), parts[2]
    try:
        module = importlib.import_module(f"pulumi_azure_native.{module_name}")
    except ImportError:
        return None
    args_class = getattr(module, f"{type_name}Args", None)
    if not inspect.isclass(args_class):
        return None
    return isinstance(inspect.getattr_static(args_class, "tags", None), property)


def is_taggable(resource_type: str, props: Mapping[str, Any]) -> bool:
    """Whether the tag rule applies: an Azure resource whose type accepts tags.

    For a type the installed SDK doesn't know (a newer provider), a resource that declares `tags`
    is plainly taggable; one that doesn't is skipped rather than guessed at.
    """
    if not resource_type.startswith(AZURE_NATIVE_PREFIX):
        return False
    known = azure_native_accepts_tags(resource_type)
    if known is None:
        return lookup(props, "tags") is not MISSING
    return known


def required_tags(props: Mapping[str, Any]) -> list[str]:
    """The resource's tags include `environment` and `managed-by`, each with a value."""
    tags = lookup(props, "tags")
    if tags is UNKNOWN:
        return []
    missing = [key for key in REQUIRED_TAGS if not _is_set(lookup(tags, key))]
    if not missing:
        return []
    names = " and ".join(repr(key) for key in missing)
    return [
        f"tags lack {names}; every taggable Azure resource must carry 'environment' (the stack) "
        "and 'managed-by' ('pulumi'), each with a non-empty value"
    ]


# --- Stack rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """One resource of the stack, as a stack rule sees it."""

    resource_type: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    urn: str = ""
    dependencies: tuple[str, ...] = ()  # urns of the resources it depends on, when the engine says


@dataclass(frozen=True)
class StackViolation:
    message: str
    urn: str | None = None


def aml_private_endpoints(resources: Iterable[Declared]) -> list[Declared]:
    """Private endpoints whose connection targets an AzureML workspace (group `amlworkspace`)."""
    found = []
    for resource in resources:
        if resource.resource_type != PRIVATE_ENDPOINT:
            continue
        connections = _elements(resource.props, "privateLinkServiceConnections") + _elements(
            resource.props, "manualPrivateLinkServiceConnections"
        )
        group_ids = [
            group
            for connection in connections
            for group in _elements(connection, "groupIds")
            if isinstance(group, str)
        ]
        if any(group.lower() == AML_PRIVATE_LINK_GROUP for group in group_ids):
            found.append(resource)
    return found


def aml_workspace_private_when_private_link(resources: Sequence[Declared]) -> list[StackViolation]:
    """In a private-link stack, every AzureML workspace has `publicNetworkAccess` Disabled.

    A stack is private-link when it holds a private endpoint with group `amlworkspace`.
    """
    endpoints = aml_private_endpoints(resources)
    if not endpoints:
        return []
    endpoint_names = ", ".join(repr(endpoint.name) for endpoint in endpoints)
    violations = []
    for resource in resources:
        if resource.resource_type != AML_WORKSPACE:
            continue
        value = lookup(resource.props, "publicNetworkAccess")
        if value is UNKNOWN or (isinstance(value, str) and value.lower() == "disabled"):
            continue
        shown = "not set (Azure then allows public access)" if value is MISSING else repr(value)
        violations.append(
            StackViolation(
                f"AzureML workspace {resource.name!r} has publicNetworkAccess {shown}, but the "
                f"stack reaches it through private endpoint {endpoint_names} (group "
                f"'{AML_PRIVATE_LINK_GROUP}'); expected publicNetworkAccess 'Disabled'",
                resource.urn or None,
            )
        )
    return violations


def online_endpoint_private_when_private_link(
    resources: Sequence[Declared],
) -> list[StackViolation]:
    """In a private-link stack, every AzureML online endpoint has
    `properties.publicNetworkAccess` Disabled: scoring reaches it through the workspace's
    private endpoint, never from the internet.
    """
    evidence = _private_link_evidence(resources)
    if evidence is None:
        return []
    violations = []
    for resource in resources:
        if resource.resource_type != ONLINE_ENDPOINT:
            continue
        value = lookup(resource.props, "properties", "publicNetworkAccess")
        if value is UNKNOWN or (isinstance(value, str) and value.lower() == "disabled"):
            continue
        shown = "not set (Azure then allows public access)" if value is MISSING else repr(value)
        violations.append(
            StackViolation(
                f"online endpoint {resource.name!r} has publicNetworkAccess {shown}, but the "
                f"AzureML workspace is private-link: {evidence}; expected publicNetworkAccess "
                "'Disabled' (scoring then goes through the workspace's private endpoint)",
                resource.urn or None,
            )
        )
    return violations


def _private_link_evidence(resources: Sequence[Declared]) -> str | None:
    endpoints = aml_private_endpoints(resources)
    if endpoints:
        return (
            f"private endpoint {endpoints[0].name!r} connects to an AzureML workspace (group "
            f"'{AML_PRIVATE_LINK_GROUP}')"
        )
    for resource in resources:
        if resource.resource_type != AML_WORKSPACE:
            continue
        value = lookup(resource.props, "publicNetworkAccess")
        if isinstance(value, str) and value.lower() == "disabled":
            return f"AzureML workspace {resource.name!r} has publicNetworkAccess 'Disabled'"
    return None


def no_dual_tracking_with_private_link(resources: Sequence[Declared]) -> list[StackViolation]:
    """(seed) Dual tracking (`amlWorkspaceId` on the Databricks workspace) is not supported with
    a private-link AzureML workspace.

    Private-link evidence: a private endpoint with group `amlworkspace`, or an AzureML workspace
    with publicNetworkAccess Disabled.
    """
    evidence = _private_link_evidence(resources)
    if evidence is None:
        return []
    return [
        StackViolation(
            f"Databricks workspace {resource.name!r} sets parameters.amlWorkspaceId (dual "
            f"tracking), but the AzureML workspace is private-link: {evidence}. Dual tracking "
            "isn't supported with a private-link AzureML workspace; expected no amlWorkspaceId "
            "and MLflow tracking exclusively in AzureML (trackingMode: exclusive)",
            resource.urn or None,
        )
        for resource in resources
        if resource.resource_type == DATABRICKS_WORKSPACE
        and _is_set(lookup(resource.props, "parameters", "amlWorkspaceId", "value"))
    ]


# --- Stack: who can read the cluster's credentials --------------------------------------------

DATABRICKS_PERMISSIONS = "databricks:index/permissions:Permissions"
WORKSPACE_USERS_GROUP = "users"  # every user of the workspace is a member
# Each of these includes CAN ATTACH TO (Databricks cluster ACLs).
ATTACHING_PERMISSION_LEVELS = ("CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE")


def _known_strings(props: Mapping[str, Any], *keys: str) -> set[str]:
    return {value for key in keys if isinstance(value := lookup(props, key), str)}


def _grants_on_cluster(permissions: Declared, cluster: Declared) -> bool:
    """Whether a Permissions resource sets the ACL of `cluster`.

    By value when both ids are known (`pulumi up`); in preview, when the cluster id is still
    unknown, by the Permissions resource's dependency on the cluster.
    """
    target = lookup(permissions.props, "clusterId")
    if target is MISSING:
        return False
    ids = _known_strings(cluster.props, "id", "clusterId")
    if isinstance(target, str) and target in ids:
        return True
    unresolved = target is UNKNOWN or not ids
    return unresolved and bool(cluster.urn) and cluster.urn in permissions.dependencies


def _workspace_users_grants(permissions: Declared) -> list[str]:
    """The permission levels the Permissions resource gives the workspace-wide `users` group."""
    levels = []
    for control in _elements(permissions.props, "accessControls"):
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
            name for name in _keys(lookup(cluster.props, "sparkEnvVars")) if is_secret_name(name)
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


# --- Stack: Databricks private link ------------------------------------------------------------
# Microsoft's quickstart `databricks-all-in-one-template-for-vnet-injection-privateendpoint`: a
# `databricks_ui_api` private endpoint for the clusters' (back-end) and the users' (front-end)
# traffic, `browser_authentication` for web login, and with public access Disabled also
# requiredNsgRules NoAzureDatabricksRules. ARM spec (Microsoft.Databricks workspaces):
# `requiredNsgRules` says whether clusters reach the control plane over a private endpoint
# (NoAzureDatabricksRules) and is not allowed on a Serverless compute-mode workspace. The stack's
# databricksPrivateLink setting is read from the resources: any of those properties or endpoints
# means private link is intended.

DATABRICKS_UI_API_GROUP = "databricks_ui_api"
BROWSER_AUTHENTICATION_GROUP = "browser_authentication"
NO_AZURE_DATABRICKS_RULES = "NoAzureDatabricksRules"


def _endpoints_with_group(resources: Iterable[Declared], group: str) -> list[tuple[Declared, Any]]:
    """(endpoint, the privateLinkServiceId it connects to) for each connection with `group`."""
    found = []
    for resource in resources:
        if resource.resource_type != PRIVATE_ENDPOINT:
            continue
        for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            for connection in _elements(resource.props, key):
                groups = _elements(connection, "groupIds")
                if any(isinstance(g, str) and g.lower() == group for g in groups):
                    found.append((resource, lookup(connection, "privateLinkServiceId")))
    return found


def _connects_to(
    endpoint: Declared, target: Any, workspace: Declared, workspaces: Sequence[Declared]
) -> bool:
    """Whether an endpoint's connection target is `workspace`: by ARM id (or its name at the end
    of the id) when known; in preview by dependency, or as the stack's only workspace."""
    if isinstance(target, str):
        wanted = target.lower().rstrip("/")
        ids = {i.lower() for i in _known_strings(workspace.props, "id")}
        names = _known_strings(workspace.props, "name", "workspaceName")
        return wanted in ids or any(
            wanted.endswith(f"/providers/microsoft.databricks/workspaces/{name.lower()}")
            for name in names
        )
    if target is UNKNOWN:
        return workspace.urn in endpoint.dependencies or len(workspaces) == 1
    return False


def _is_disabled(value: Any) -> bool:
    return isinstance(value, str) and value.lower() == "disabled"


def databricks_private_link_backend(resources: Sequence[Declared]) -> list[StackViolation]:
    """Back-end private link comes whole: a Databricks workspace with `requiredNsgRules`
    NoAzureDatabricksRules, with `publicNetworkAccess` Disabled, or targeted by a
    `databricks_ui_api` private endpoint has both the NSG setting and that endpoint
    (databricksPrivateLink `backend` or `full`)."""
    workspaces = [r for r in resources if r.resource_type == DATABRICKS_WORKSPACE]
    ui_api = _endpoints_with_group(resources, DATABRICKS_UI_API_GROUP)
    violations = []
    for workspace in workspaces:
        compute_mode = lookup(workspace.props, "computeMode")
        if isinstance(compute_mode, str) and compute_mode.lower() == "serverless":
            continue  # no clusters in the customer's network, so no back end to make private
        nsg_rules = lookup(workspace.props, "requiredNsgRules")
        endpoints = [e for e, t in ui_api if _connects_to(e, t, workspace, workspaces)]
        evidence = []
        private_nsg = (
            isinstance(nsg_rules, str) and nsg_rules.lower() == NO_AZURE_DATABRICKS_RULES.lower()
        )
        if private_nsg:
            evidence.append(f"requiredNsgRules is '{NO_AZURE_DATABRICKS_RULES}'")
        if _is_disabled(lookup(workspace.props, "publicNetworkAccess")):
            evidence.append("publicNetworkAccess is 'Disabled'")
        if endpoints:
            evidence.append(
                f"private endpoint {endpoints[0].name!r} (group '{DATABRICKS_UI_API_GROUP}') "
                "connects to it"
            )
        if not evidence:
            continue
        intent = f"{' and '.join(evidence)}, so it is meant to use private link"
        urn = workspace.urn or None
        if nsg_rules is not UNKNOWN and not private_nsg:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has requiredNsgRules "
                    f"{_shown(nsg_rules)}, but {intent}; expected '{NO_AZURE_DATABRICKS_RULES}', "
                    "so clusters reach the control plane through the private endpoint rather "
                    "than the AzureDatabricks service tag",
                    urn,
                )
            )
        if not endpoints:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has no private endpoint with group "
                    f"'{DATABRICKS_UI_API_GROUP}', but {intent}; expected one in the endpoint "
                    "subnet, connected to the workspace (without it clusters cannot reach the "
                    "control plane)",
                    urn,
                )
            )
    return violations


def databricks_private_link_full(resources: Sequence[Declared]) -> list[StackViolation]:
    """Front-end private link comes whole (databricksPrivateLink `full`): a Databricks
    workspace with `publicNetworkAccess` Disabled has a `browser_authentication` private
    endpoint in the stack (web login needs it; one serves a region and private DNS zone, so it
    may connect to another workspace), and a workspace that a `browser_authentication` endpoint
    connects to has `publicNetworkAccess` Disabled."""
    workspaces = [r for r in resources if r.resource_type == DATABRICKS_WORKSPACE]
    browser = _endpoints_with_group(resources, BROWSER_AUTHENTICATION_GROUP)
    violations = []
    for workspace in workspaces:
        access = lookup(workspace.props, "publicNetworkAccess")
        urn = workspace.urn or None
        if _is_disabled(access) and not browser:
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has publicNetworkAccess 'Disabled', "
                    f"but the stack has no private endpoint with group "
                    f"'{BROWSER_AUTHENTICATION_GROUP}'; expected one, so users can log in to "
                    "the workspace's web UI through private link",
                    urn,
                )
            )
        endpoints = [e for e, t in browser if _connects_to(e, t, workspace, workspaces)]
        if endpoints and access is not UNKNOWN and not _is_disabled(access):
            shown = (
                "not set (Azure then allows public access)" if access is MISSING else repr(access)
            )
            violations.append(
                StackViolation(
                    f"Databricks workspace {workspace.name!r} has publicNetworkAccess {shown}, "
                    f"but private endpoint {endpoints[0].name!r} (group "
                    f"'{BROWSER_AUTHENTICATION_GROUP}') connects to it, so it is meant to be "
                    "reached only through private link; expected publicNetworkAccess 'Disabled'",
                    urn,
                )
            )
    return violations


# --- State backend (bootstrap/) ----------------------------------------------------------------
# A stack that declares a blob container named `pulumi-state` holds Pulumi state: its account
# must let a lost or overwritten state file be recovered and take Entra ID tokens only, and the
# key vault holding a secrets-provider key must never be purgeable. Names that relate resources
# (account, vault) come from the inputs, or from the ARM id in the outputs; when one is unknown
# (preview before login) the rule checks every candidate rather than none.

STATE_CONTAINER_NAME = "pulumi-state"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE_PROPERTIES = "azure-native:storage:BlobServiceProperties"
KEY_VAULT_KEY = "azure-native:keyvault:Key"
MIN_STATE_SOFT_DELETE_DAYS = 7


def _name_in(props: Any, prop: str, id_segment: str | None = None) -> Any:
    """A resource's or its parent's name: `props[prop]` (inputs), else from the outputs: the
    name after `/<id_segment>/` in the ARM id, or `name` itself without a segment. UNKNOWN if
    neither is known."""
    value = lookup(props, prop)
    if isinstance(value, str):
        return value
    if id_segment is None:
        name = lookup(props, "name")
        return name if isinstance(name, str) else UNKNOWN
    rid = lookup(props, "id")
    match = (
        re.search(rf"/{id_segment}/([^/]+)", rid, re.IGNORECASE) if isinstance(rid, str) else None
    )
    return match.group(1) if match else UNKNOWN


def _same(a: Any, b: Any) -> bool:
    """Whether two names may belong to the same resource (an unknown name may be either)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return True


def state_containers(resources: Iterable[Declared]) -> list[Declared]:
    """The stack's blob containers named `pulumi-state`."""
    return [
        r
        for r in resources
        if r.resource_type == BLOB_CONTAINER
        and _name_in(r.props, "containerName") == STATE_CONTAINER_NAME
    ]


def _in_state_accounts(resources: Sequence[Declared], type_: str) -> list[tuple[Declared, Any]]:
    """(resource, its account's name) for each resource of `type_` (a storage account, or a
    blob service) that may belong to an account holding a `pulumi-state` container."""
    accounts = [
        _name_in(c.props, "accountName", "storageAccounts") for c in state_containers(resources)
    ]
    segment = None if type_ == STORAGE_ACCOUNT else "storageAccounts"
    found = []
    for resource in resources:
        if resource.resource_type != type_:
            continue
        name = _name_in(resource.props, "accountName", segment)
        if any(_same(name, account) for account in accounts):
            found.append((resource, name))
    return found


def _retention_problems(props: Any, prop: str) -> list[str]:
    enabled = lookup(props, prop, "enabled")
    days = lookup(props, prop, "days")
    if enabled is UNKNOWN:
        return []
    if enabled is not True:
        return [f"{prop}.enabled is {_shown(enabled)}; expected true"]
    if days is UNKNOWN or (
        isinstance(days, int | float) and not isinstance(days, bool)
        and days >= MIN_STATE_SOFT_DELETE_DAYS
    ):  # fmt: skip
        return []
    shown = (
        f"{days:g}" if isinstance(days, int | float) else _shown(days)
    )  # wire numbers are floats
    return [f"{prop}.days is {shown}; expected at least {MIN_STATE_SOFT_DELETE_DAYS}"]


def state_backend_blob_recovery(resources: Sequence[Declared]) -> list[StackViolation]:
    """The account holding `pulumi-state` keeps blob versions and soft-deletes blobs and
    containers for at least 7 days, so a state file can be recovered."""
    if not state_containers(resources):
        return []
    services = _in_state_accounts(resources, BLOB_SERVICE_PROPERTIES)
    violations = []
    for account, name in _in_state_accounts(resources, STORAGE_ACCOUNT):
        mine = [s for s, service_account in services if _same(service_account, name)]
        if not mine:
            violations.append(
                StackViolation(
                    f"storage account {account.name!r} holds the '{STATE_CONTAINER_NAME}' "
                    "container but the stack declares no blob service properties for it; "
                    "expected isVersioningEnabled true and deleteRetentionPolicy and "
                    "containerDeleteRetentionPolicy enabled, so a state file can be recovered",
                    account.urn or None,
                )
            )
    for service, _ in services:
        problems = []
        versioning = lookup(service.props, "isVersioningEnabled")
        if versioning is not UNKNOWN and versioning is not True:
            problems.append(f"isVersioningEnabled is {_shown(versioning)}; expected true")
        problems += _retention_problems(service.props, "deleteRetentionPolicy")
        problems += _retention_problems(service.props, "containerDeleteRetentionPolicy")
        if problems:
            violations.append(
                StackViolation(
                    f"blob service {service.name!r} of the account holding Pulumi state: "
                    + "; ".join(problems)
                    + " (a deleted or overwritten state file must stay recoverable)",
                    service.urn or None,
                )
            )
    return violations


def state_backend_entra_only(resources: Sequence[Declared]) -> list[StackViolation]:
    """The account holding `pulumi-state` refuses shared keys and SAS (allowSharedKeyAccess
    false): state is read and written with Entra ID tokens, under RBAC."""
    violations = []
    for account, _ in _in_state_accounts(resources, STORAGE_ACCOUNT):
        value = lookup(account.props, "allowSharedKeyAccess")
        if value is UNKNOWN or value is False:
            continue
        shown = "not set (Azure then allows shared keys)" if value is MISSING else repr(value)
        violations.append(
            StackViolation(
                f"storage account {account.name!r} holds the '{STATE_CONTAINER_NAME}' container "
                f"and has allowSharedKeyAccess {shown}; expected false, so only Entra ID "
                "identities with a role on the container can read or write state",
                account.urn or None,
            )
        )
    return violations


def state_key_vault_purge_protection(resources: Sequence[Declared]) -> list[StackViolation]:
    """In a state backend stack, a key vault holding a key has purge protection on: purging the
    secrets-provider key would make every stack's secrets unreadable."""
    if not state_containers(resources):
        return []
    key_vaults = [
        _name_in(r.props, "vaultName", "vaults")
        for r in resources
        if r.resource_type == KEY_VAULT_KEY
    ]
    violations = []
    for vault in resources:
        if vault.resource_type != KEY_VAULT:
            continue
        name = _name_in(vault.props, "vaultName")
        if not any(_same(name, held) for held in key_vaults):
            continue
        value = lookup(vault.props, "properties", "enablePurgeProtection")
        if value is UNKNOWN or value is True:
            continue
        violations.append(
            StackViolation(
                f"key vault {vault.name!r} holds a key in a Pulumi state backend stack and has "
                f"properties.enablePurgeProtection {_shown(value)}; expected true, so the "
                "secrets-provider key can never be purged",
                vault.urn or None,
            )
        )
    return violations
