"""Stack config: read once, validated into frozen, typed objects before any resource exists.

`parse_config` is pure (a mapping of raw Pulumi config values in, `StackConfig` out), so tests
call it directly; `load_config` feeds it what the Pulumi runtime holds.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network
from types import MappingProxyType
from typing import Any, TypeVar

from core import azure_names, cidr, config_keys, naming
from core.controls import check_image_build, check_protect_managed_network
from core.errors import NAMESPACE, ConfigError, hidden_keys, secret_like
from mlflow_setup.contract import ModelRegistry, TrackingMode

LOCATION_KEY = "azure-native:location"
DEFAULT_SPARK_VERSION = "17.3.x-scala2.13"  # Databricks Runtime 17.3 LTS
DEFAULT_NODE_TYPE = "Standard_DS3_v2"
STACK_TAG_KEYS = ("environment", "managed-by")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_LOCATION = re.compile(r"[a-z][a-z0-9]+")
_TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")
# Storage accounts take at most 15 tags, names up to 128 characters (storage spec,
# StorageAccountCreateParameters.tags); the strictest tagged resource sets the limits.
MAX_TAGS = 15
MAX_TAG_NAME = 128
MAX_TAG_VALUE = 256
WORKSPACE_USERS_GROUP = "users"  # every user of the Databricks workspace
# Names Databricks resolves to everyone in the workspace: the workspace's `users` group and the
# account-level `account users` group. Databricks compares group names case-insensitively.
EVERYONE_GROUPS = frozenset({WORKSPACE_USERS_GROUP, "account users"})
E = TypeVar("E", bound=StrEnum)


class DatabricksPrivateLink(StrEnum):
    NONE = "none"
    BACKEND = "backend"  # clusters reach the control plane through a private endpoint
    FULL = "full"  # also the workspace UI and REST API; public network access off


class AccessMode(StrEnum):
    STANDARD = "standard"  # USER_ISOLATION: shared by the users granted attach
    DEDICATED = "dedicated"  # SINGLE_USER: one user or group (what the ML runtime needs)


class EndpointAuthMode(StrEnum):
    """How clients authenticate to the online endpoint (ARM's spelling)."""

    AAD_TOKEN = "AADToken"  # Microsoft Entra ID token, scope https://ml.azure.com/.default
    KEY = "Key"


class ManagedNetworkMode(StrEnum):
    """The AzureML workspace's managed network (config spelling; ARM's isolationMode: ISOLATION)."""

    OFF = "off"
    ALLOW_INTERNET_OUTBOUND = "allowInternetOutbound"
    ALLOW_ONLY_APPROVED_OUTBOUND = "allowOnlyApprovedOutbound"


@dataclass(frozen=True)
class NetworkPlan:
    address_space: IPv4Network
    host_subnet: IPv4Network
    container_subnet: IPv4Network
    endpoint_subnet: IPv4Network | None  # only with privateLink or databricksPrivateLink


@dataclass(frozen=True)
class ClusterSpec:
    spark_version: str
    node_type: str
    min_workers: int
    max_workers: int
    autotermination_minutes: int
    wait_for_running: bool = False  # `pulumi up` waits for RUNNING and the library installed
    access_mode: AccessMode = AccessMode.STANDARD
    single_user: str | None = None  # with AccessMode.DEDICATED
    users: tuple[str, ...] = ()  # Databricks users or groups granted CAN_RESTART (and attach)

    @property
    def single_node(self) -> bool:
        return self.max_workers == 0


@dataclass(frozen=True)
class ServicePrincipal:
    client_id: str
    object_id: str
    tenant_id: str | None  # None: the deployer's tenant


@dataclass(frozen=True)
class EndpointSpec:
    """A managed online endpoint serving one version of a model registered in AzureML."""

    model: str
    version: int
    instance_type: str
    instance_count: int
    auth_mode: EndpointAuthMode
    name: str | None  # None: endpoint_name() builds it from prefix, stack and a unique suffix


@dataclass(frozen=True)
class UnityCatalogSpec:
    """Where unity-catalog registers models: `<catalog>.<schema>.<model>`."""

    catalog: str
    schema: str

    @property
    def model_schema(self) -> str:
        return f"{self.catalog}.{self.schema}"


@dataclass(frozen=True)
class StackConfig:
    stack: str
    location: str
    prefix: str
    tracking_mode: TrackingMode
    model_registry: ModelRegistry
    private_link: bool
    databricks_private_link: DatabricksPrivateLink
    network: NetworkPlan
    cluster: ClusterSpec
    service_principal: ServicePrincipal | None
    service_principal_secret: str | None = field(repr=False)
    container_registry: bool
    protect: bool
    purge_on_destroy: bool
    tags: Mapping[str, str]
    endpoint: EndpointSpec | None = None
    batch_endpoint: BatchEndpointSpec | None = None
    aml_managed_network: ManagedNetworkMode = ManagedNetworkMode.OFF
    unity_catalog: UnityCatalogSpec | None = None  # with modelRegistry unity-catalog
    diagnostics: DiagnosticsSpec = field(default_factory=lambda: DiagnosticsSpec())
    access: AccessSpec = field(default_factory=lambda: AccessSpec())
    budget: BudgetSpec | None = None
    databricks_storage_firewall: bool = False


NETWORK_DEFAULTS = {
    "addressSpace": "10.139.0.0/16",
    "hostSubnet": "10.139.0.0/22",
    "containerSubnet": "10.139.4.0/22",
    "endpointSubnet": "10.139.8.0/26",
}
CLUSTER_DEFAULTS: dict[str, Any] = {
    "sparkVersion": DEFAULT_SPARK_VERSION,
    "nodeType": DEFAULT_NODE_TYPE,
    "minWorkers": 1,
    "maxWorkers": 2,
    "autoterminationMinutes": 30,
    "waitForRunning": False,
    "accessMode": AccessMode.STANDARD.value,
    "singleUser": None,
    "users": [],
}
# Scalar keys' defaults, stated once: Pulumi.yaml's `config:` block declares the same (a test
# keeps them equal). trackingMode and modelRegistry default by mode, see parse_config.
DEFAULTS: dict[str, Any] = {
    "prefix": "mlflow",
    "privateLink": False,
    "databricksPrivateLink": DatabricksPrivateLink.NONE.value,
    "containerRegistry": False,
    "protect": False,
    "purgeOnDestroy": True,
    "amlManagedNetwork": "off",
}
SERVICE_PRINCIPAL_FIELDS = ("clientId", "objectId", "tenantId")
ENDPOINT_FIELDS = ("model", "version", "instanceType", "instanceCount", "name", "authMode")
KNOWN_KEYS = (
    "prefix",
    "trackingMode",
    "modelRegistry",
    "privateLink",
    "databricksPrivateLink",
    "network",
    "cluster",
    "servicePrincipal",
    "servicePrincipalSecret",
    "containerRegistry",
    "protect",
    "purgeOnDestroy",
    "tags",
    "endpoint",
    "batchEndpoint",
    "amlManagedNetwork",
    "unityCatalog",
    "diagnostics",
    "access",
    "budget",
    "databricksStorageFirewall",
    "unlistedRegion",
)


def parse_config(
    raw: Mapping[str, Any], stack: str, secret_keys: Set[str] = frozenset()
) -> StackConfig:
    """Validate raw config (full keys such as `databricks-azureml:prefix`) into a StackConfig.

    Raises ConfigError on the first rejected value; its message never shows the value of a key
    stored `secure:` (core/errors.py).
    """
    with hidden_keys(secret_keys):
        return _parse_config(raw, stack, secret_keys)


def _parse_config(raw: Mapping[str, Any], stack: str, secret_keys: Set[str]) -> StackConfig:
    config_keys.check_keys(raw, KNOWN_KEYS, _sections())
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    _reject_unknown("", ours, KNOWN_KEYS)

    location = _location(raw)
    azure_names.check_region(LOCATION_KEY, location, ours.get("unlistedRegion"))
    prefix = _prefix(ours, stack)
    private_link = _bool(ours, "privateLink", DEFAULTS["privateLink"])
    default_mode = TrackingMode.EXCLUSIVE if private_link else TrackingMode.DUAL
    tracking_mode = _enum(ours, "trackingMode", TrackingMode, default_mode)
    default_registry = (
        ModelRegistry.AZUREML
        if tracking_mode is TrackingMode.EXCLUSIVE
        else ModelRegistry.UNITY_CATALOG
    )
    model_registry = _enum(ours, "modelRegistry", ModelRegistry, default_registry)
    if private_link and tracking_mode is TrackingMode.DUAL:
        raise ConfigError(
            "trackingMode",
            "dual",
            "is not supported with privateLink: true: dual-tracking isn't supported with a "
            "private-link AzureML workspace; use trackingMode exclusive",
        )

    databricks_private_link = _enum(
        ours,
        "databricksPrivateLink",
        DatabricksPrivateLink,
        DatabricksPrivateLink(DEFAULTS["databricksPrivateLink"]),
    )
    network = _network(
        ours, private_link or databricks_private_link is not DatabricksPrivateLink.NONE
    )
    cluster = _cluster(ours)
    _check_cluster_runtime(cluster, model_registry)
    service_principal = _service_principal(ours)
    secret = _secret(ours, secret_keys)
    _check_credentials(tracking_mode, model_registry, service_principal, secret)
    if service_principal is not None:
        _check_no_everyone_group(cluster)

    config = StackConfig(
        stack=stack,
        location=location,
        prefix=prefix,
        tracking_mode=tracking_mode,
        model_registry=model_registry,
        private_link=private_link,
        databricks_private_link=databricks_private_link,
        network=network,
        cluster=cluster,
        service_principal=service_principal,
        service_principal_secret=secret,
        container_registry=_bool(ours, "containerRegistry", DEFAULTS["containerRegistry"]),
        protect=_bool(ours, "protect", DEFAULTS["protect"]),
        purge_on_destroy=_bool(ours, "purgeOnDestroy", DEFAULTS["purgeOnDestroy"]),
        tags=_tags(ours),
        endpoint=_endpoint(ours, prefix, stack, model_registry),
        batch_endpoint=_batch_endpoint(ours, model_registry),
        aml_managed_network=_managed_network(
            ours, private_link, serving=bool({"endpoint", "batchEndpoint"} & ours.keys())
        ),
        unity_catalog=_unity_catalog(ours, prefix, stack, model_registry),
        diagnostics=_diagnostics(ours),
        access=_access(ours),
        budget=_budget(ours),
        databricks_storage_firewall=_storage_firewall(ours, network.endpoint_subnet is not None),
    )
    check_protect_managed_network(config.protect, config.aml_managed_network.value)
    check_image_build(
        private_link=private_link,
        container_registry=config.container_registry,
        online=config.endpoint is not None,
        batch=config.batch_endpoint is not None,
    )
    return config


def load_config() -> StackConfig:
    """Read the running program's config and secret keys from the Pulumi runtime."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys.update(k for k in raw if runtime_config.is_config_secret(k))
    config = parse_config(raw, pulumi.get_stack(), secret_keys)
    if not pulumi.runtime.is_dry_run():
        from core import placeholders

        placeholders.refuse(config)  # the preview warns (tools/preview.py), `pulumi up` refuses
    return config


# --- readers: each turns one raw value into a typed one or raises ConfigError ------------


def _location(raw: Mapping[str, Any]) -> str:
    location = raw.get(LOCATION_KEY)
    if location is None or location == "":
        raise ConfigError(
            LOCATION_KEY,
            None,
            "is required: an Azure region such as westeurope "
            f"(pulumi config set {LOCATION_KEY} westeurope)",
        )
    if not isinstance(location, str) or not _LOCATION.fullmatch(location):
        raise ConfigError(
            LOCATION_KEY, location, "is not an Azure region name such as westeurope (lowercase)"
        )
    return location


def _prefix(ours: Mapping[str, Any], stack: str) -> str:
    prefix = _string(ours, "prefix", DEFAULTS["prefix"])
    if not naming.PREFIX_PATTERN.fullmatch(prefix):
        raise ConfigError(
            "prefix",
            prefix,
            "is not allowed: 2-10 characters, a lowercase letter first, then lowercase letters "
            "or digits",
        )
    for problem in naming.name_problems(prefix, stack):
        raise ConfigError("prefix", prefix, f"with stack {stack!r} gives a {problem}")
    return prefix


def _reject_unknown(path: str, given: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {path}{close[0]}?" if close else ""
            raise ConfigError(
                f"{path}{key}",
                given[key],
                f"is set for an unknown key; known keys: {', '.join(known)}{hint}",
                known=False,
            )


def _string(ours: Mapping[str, Any], key: str, default: str) -> str:
    value = ours.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, value, "is not a non-empty string")
    return value


def _bool(ours: Mapping[str, Any], key: str, default: bool, path: str = "") -> bool:
    value = ours.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{path}{key}", value, "is not a boolean; allowed: true, false")


def _enum(ours: Mapping[str, Any], key: str, kind: type[E], default: E, path: str = "") -> E:
    value = ours.get(key, default)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ConfigError(f"{path}{key}", value, f"is not allowed; allowed: {allowed}") from None


def _object(ours: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = ours.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(key, value, "is not an object (set fields with --path)") from None
    if not isinstance(value, dict):
        raise ConfigError(key, value, "is not an object (set fields with --path)")
    return value


def _int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, "is not a whole number")
    if not low <= value <= high:
        raise ConfigError(key, value, f"is outside {low}..{high}")
    return value


def _network(ours: Mapping[str, Any], endpoints: bool) -> NetworkPlan:
    given = _object(ours, "network") or {}
    _reject_unknown("network.", given, tuple(NETWORK_DEFAULTS))
    values = {**NETWORK_DEFAULTS, **given}
    nets = {f"network.{k}": cidr.parse_cidr(f"network.{k}", v) for k, v in values.items()}
    space = nets.pop("network.addressSpace")
    cidr.check_address_space("network.addressSpace", space)
    if not endpoints:
        nets.pop("network.endpointSubnet")
    cidr.check_subnets(
        "network.addressSpace",
        space,
        nets,
        databricks={"network.hostSubnet", "network.containerSubnet"},
    )
    return NetworkPlan(
        address_space=space,
        host_subnet=nets["network.hostSubnet"],
        container_subnet=nets["network.containerSubnet"],
        endpoint_subnet=nets.get("network.endpointSubnet"),
    )


def _cluster(ours: Mapping[str, Any]) -> ClusterSpec:
    given = _object(ours, "cluster") or {}
    _reject_unknown("cluster.", given, tuple(CLUSTER_DEFAULTS))
    values = {**CLUSTER_DEFAULTS, **given}
    for key in ("sparkVersion", "nodeType"):
        if not isinstance(values[key], str) or not values[key].strip():
            raise ConfigError(f"cluster.{key}", values[key], "is not a non-empty string")
    azure_names.check_spark_version("cluster.sparkVersion", values["sparkVersion"])
    azure_names.check_vm_size("cluster.nodeType", values["nodeType"])
    min_workers = _int("cluster.minWorkers", values["minWorkers"], 0, 10_000)
    max_workers = _int("cluster.maxWorkers", values["maxWorkers"], 0, 10_000)
    if min_workers > max_workers:
        raise ConfigError(
            "cluster.minWorkers", min_workers, f"is greater than cluster.maxWorkers {max_workers}"
        )
    access_mode = _enum(values, "accessMode", AccessMode, AccessMode.STANDARD, "cluster.")
    single_user = values["singleUser"]
    if access_mode is AccessMode.DEDICATED and single_user is None:
        raise ConfigError(
            "cluster.singleUser",
            None,
            "is required with cluster.accessMode dedicated: the Databricks user or group the "
            "cluster is dedicated to (pulumi config set --path "
            f"{NAMESPACE}:cluster.singleUser alice@contoso.com)",
        )
    if single_user is not None and not _principal_name(single_user):
        raise ConfigError("cluster.singleUser", single_user, "is not a user or group name")
    if single_user is not None and access_mode is not AccessMode.DEDICATED:
        raise ConfigError(
            "cluster.singleUser",
            single_user,
            f"applies only with cluster.accessMode dedicated (accessMode is {access_mode.value}); "
            f"set `pulumi config set --path {NAMESPACE}:cluster.accessMode dedicated`, or remove "
            f"it: `pulumi config rm --path {NAMESPACE}:cluster.singleUser`",
        )
    return ClusterSpec(
        spark_version=values["sparkVersion"],
        node_type=values["nodeType"],
        min_workers=min_workers,
        max_workers=max_workers,
        autotermination_minutes=_int(
            "cluster.autoterminationMinutes", values["autoterminationMinutes"], 10, 10_000
        ),
        wait_for_running=_bool(values, "waitForRunning", False, "cluster."),
        access_mode=access_mode,
        single_user=single_user if access_mode is AccessMode.DEDICATED else None,
        users=_principal_names("cluster.users", values["users"]),
    )


def _principal_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value == value.strip()


def _principal_names(key: str, given: Any) -> tuple[str, ...]:
    value = given
    if isinstance(given, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(given)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            key, given, "is not a list of Databricks user or group names (set with --path)"
        )
    for item in value:
        if not item.strip():
            raise ConfigError(key, value, "has an empty user or group name")
        if item != item.strip():
            raise ConfigError(key, item, "is a user or group name with leading or trailing spaces")
    return tuple(dict.fromkeys(value))


def everyone_group(name: str) -> bool:
    """Whether a principal name is a group that holds every user (any case, any spacing)."""
    return " ".join(name.split()).casefold() in EVERYONE_GROUPS


def _check_no_everyone_group(cluster: ClusterSpec) -> None:
    """The cluster holds the service principal's secret: whoever can attach to it can read its
    environment, so it is never granted to a group that holds every user."""
    why = (
        "anyone who can attach to the cluster can read its environment, the service principal's "
        "secret included; name the groups or users who need the cluster"
    )
    for name in cluster.users:
        if everyone_group(name):
            raise ConfigError(
                "cluster.users", name, f"is a group of every user of the workspace: {why}"
            )
    if cluster.single_user is not None and everyone_group(cluster.single_user):
        raise ConfigError(
            "cluster.singleUser",
            cluster.single_user,
            f"is a group of every user of the workspace: {why}",
        )


def _service_principal(ours: Mapping[str, Any]) -> ServicePrincipal | None:
    given = _object(ours, "servicePrincipal")
    if given is None:
        return None
    _reject_unknown("servicePrincipal.", given, SERVICE_PRINCIPAL_FIELDS)
    ids: dict[str, str | None] = {}
    for key in SERVICE_PRINCIPAL_FIELDS:
        value = given.get(key)
        if value is None and key == "tenantId":
            ids[key] = None
            continue
        if not isinstance(value, str) or not _GUID.fullmatch(value):
            what = "is required" if value is None else "is not a GUID"
            raise ConfigError(
                f"servicePrincipal.{key}",
                value,
                f"{what}: the service principal's {key} as a GUID "
                "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
            )
        ids[key] = value.lower()
    return ServicePrincipal(
        client_id=ids["clientId"] or "", object_id=ids["objectId"] or "", tenant_id=ids["tenantId"]
    )


def _secret(ours: Mapping[str, Any], secret_keys: Set[str]) -> str | None:
    value = ours.get("servicePrincipalSecret")
    if value is None:
        return None
    key = f"{NAMESPACE}:servicePrincipalSecret"
    if key not in secret_keys:
        raise ConfigError(
            "servicePrincipalSecret",
            value,
            "is stored in plaintext; set it encrypted: "
            f"pulumi config set --secret {key} <client-secret>",
        )
    if not isinstance(value, str) or not value:
        raise ConfigError("servicePrincipalSecret", value, "is not a non-empty string")
    return value


def _check_credentials(
    mode: TrackingMode,
    registry: ModelRegistry,
    principal: ServicePrincipal | None,
    secret: str | None,
) -> None:
    how = (
        f"pulumi config set --path {NAMESPACE}:servicePrincipal.clientId <appId>; "
        f"pulumi config set --path {NAMESPACE}:servicePrincipal.objectId <objectId>; "
        f"pulumi config set --secret {NAMESPACE}:servicePrincipalSecret <client-secret>"
    )
    if principal is None and secret is not None:
        raise ConfigError(
            "servicePrincipal", None, f"is required with servicePrincipalSecret: {how}"
        )
    if principal is not None and secret is None:
        raise ConfigError(
            "servicePrincipalSecret",
            None,
            f"is required with servicePrincipal: pulumi config set --secret "
            f"{NAMESPACE}:servicePrincipalSecret <client-secret>",
        )
    reason = None
    if mode is TrackingMode.EXCLUSIVE:
        reason = f"trackingMode {mode.value}"
    elif registry is ModelRegistry.AZUREML:
        reason = f"modelRegistry {registry.value}"
    if reason and principal is None:
        raise ConfigError(
            "servicePrincipal",
            None,
            f"is required with {reason}: the cluster could not authenticate to AzureML; {how}",
        )


def _tags(ours: Mapping[str, Any]) -> Mapping[str, str]:
    given = _object(ours, "tags") or {}
    if len(given) + len(STACK_TAG_KEYS) > MAX_TAGS:
        raise ConfigError(
            "tags",
            f"{len(given)} tags",
            f"are too many: Azure storage accounts take at most {MAX_TAGS} tags, and the stack "
            f"adds {len(STACK_TAG_KEYS)} ({', '.join(STACK_TAG_KEYS)}); "
            f"allowed: {MAX_TAGS - len(STACK_TAG_KEYS)}",
        )
    for name, value in given.items():
        key = f"tags.{name}"
        if secret_like(key):
            raise ConfigError(
                key,
                value,
                "has a name that says it holds a secret: tags are readable by anyone who can read "
                "the resource, and are shown by the preview; keep secrets in the key vault",
            )
        if name.lower() in STACK_TAG_KEYS:
            raise ConfigError(
                key, value, f"is set by the stack itself ({', '.join(STACK_TAG_KEYS)})"
            )
        if not 1 <= len(name) <= MAX_TAG_NAME or _TAG_NAME_FORBIDDEN.search(name):
            raise ConfigError(
                key,
                value,
                f"has a tag name Azure rejects (1-{MAX_TAG_NAME} characters, none of <>%&\\?/)",
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
            raise ConfigError(key, value, f"is not a string of at most {MAX_TAG_VALUE} characters")
    return MappingProxyType(dict(given))


# --- online endpoint ----------------------------------------------------------------------

ENDPOINT_DEFAULTS: dict[str, Any] = {
    "instanceType": "Standard_DS3_v2",
    "instanceCount": 1,
    "authMode": EndpointAuthMode.AAD_TOKEN.value,
}
# Endpoint names are unique per Azure region (the scoring URI is
# https://<name>.<region>.inference.ml.azure.com/score), so the default name carries the stack's
# subscription-derived suffix, like the storage account's.
# azure-ai-ml's OnlineEndpoint name check (`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`, 3-32
# characters): a trailing '-' is refused.
# azure-ai-ml validates online and batch endpoint names alike:
# ^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$, 3-32 characters.
_ENDPOINT_NAME = re.compile(r"[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?")
_ENDPOINT_NAME_ALLOWED = (
    "letters, digits and '-', starting with a letter and ending with a letter or digit; "
    "unique within the Azure region"
)
ENDPOINT_NAME_RULE = naming.NameRule(
    "online endpoint", 3, 32, _ENDPOINT_NAME, _ENDPOINT_NAME_ALLOWED
)
# AzureML asset names: letters, digits, '-', '_' and '.', starting with a letter or digit.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
_VM_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_MAX_MODEL_VERSION = 10**9


def endpoint_name(spec: EndpointSpec, prefix: str, stack: str, suffix: str) -> str:
    """The endpoint's name: `endpoint.name`, or prefix, stack and the stack's unique suffix."""
    return spec.name or f"{prefix}-{naming.stack_slug(stack)}-ep-{suffix}"


def _endpoint(
    ours: Mapping[str, Any], prefix: str, stack: str, registry: ModelRegistry
) -> EndpointSpec | None:
    given = _object(ours, "endpoint")
    if given is None:
        return None
    values, model, version, instance_type, name = _deployment(
        "endpoint", given, ENDPOINT_FIELDS, ENDPOINT_DEFAULTS, registry, ENDPOINT_NAME_RULE
    )
    count = _positive("endpoint.instanceCount", values["instanceCount"], 1000)
    try:
        auth_mode = EndpointAuthMode(values["authMode"])
    except ValueError:
        allowed = ", ".join(m.value for m in EndpointAuthMode)
        raise ConfigError(
            "endpoint.authMode", values["authMode"], f"is not allowed; allowed: {allowed}"
        ) from None
    return EndpointSpec(model, version, instance_type, count, auth_mode, name)


def _deployment(
    key: str,
    given: Mapping[str, Any],
    fields: tuple[str, ...],
    defaults: Mapping[str, Any],
    registry: ModelRegistry,
    name_rule: naming.NameRule,
) -> tuple[dict[str, Any], str, int, str, str | None]:
    """What an online and a batch endpoint share: a model registered in AzureML, its version,
    the VM size and an optional name; returns the values with defaults, then those four."""
    _reject_unknown(f"{key}.", given, fields)
    if registry is not ModelRegistry.AZUREML:
        raise ConfigError(
            key,
            json.dumps(given),
            f"needs modelRegistry azureml: with modelRegistry {registry.value} the notebook "
            "registers models in Databricks, and only models registered in AzureML can be "
            "deployed to it; "
            f"set `pulumi config set {NAMESPACE}:modelRegistry azureml`, register the model "
            f"again, then set {key}",
        )
    values = {**defaults, **given}
    model = values.get("model")
    if not isinstance(model, str) or not _MODEL_NAME.fullmatch(model):
        what = "is required" if model is None else "is not a model name"
        raise ConfigError(
            f"{key}.model",
            model,
            f"{what}: the name the model is registered under in AzureML (registered_model_name; "
            "letters, digits, '-', '_' and '.')",
        )
    version = _positive(f"{key}.version", values.get("version"), _MAX_MODEL_VERSION)
    instance_type = values["instanceType"]
    if not isinstance(instance_type, str) or not _VM_SIZE.fullmatch(instance_type):
        raise ConfigError(
            f"{key}.instanceType", instance_type, "is not a VM size such as Standard_DS3_v2"
        )
    azure_names.check_vm_size(f"{key}.instanceType", instance_type)
    name = values.get("name")
    if name is not None:  # the default always fits: the key vault's rule is stricter
        if not isinstance(name, str):
            raise ConfigError(f"{key}.name", name, "is not a string")
        problem = name_rule.problem(name)
        if problem:
            raise ConfigError(f"{key}.name", name, f"is not allowed: {problem}")
    return values, model, version, instance_type, name


def _positive(key: str, value: Any, high: int) -> int:
    """A whole number from 1 to `high`, given as a number or a string of digits."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value is None:
        raise ConfigError(key, None, "is required: a whole number from 1")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, f"is not a whole number; allowed: 1..{high}")
    if value < 1:
        hint = (
            ": a managed deployment serves from at least one instance; to stop serving, remove "
            f"the endpoint (pulumi config rm {NAMESPACE}:endpoint)"
            if key == "endpoint.instanceCount"
            else ""
        )
        raise ConfigError(key, value, f"is below 1; allowed: 1..{high}{hint}")
    if value > high:
        raise ConfigError(key, value, f"is above {high}; allowed: 1..{high}")
    return value


# --- batch endpoint -----------------------------------------------------------------------


class BatchOutputAction(StrEnum):
    """What a batch deployment writes (ARM BatchOutputAction)."""

    APPEND_ROW = "AppendRow"  # every prediction, appended to one file (predictions.csv)
    SUMMARY_ONLY = "SummaryOnly"  # only the job's status; the scoring writes its own output


@dataclass(frozen=True)
class BatchEndpointSpec:
    """A batch endpoint scoring files with one version of a model registered in AzureML."""

    model: str
    version: int
    instance_type: str  # the compute cluster's VM size
    max_instances: int  # the cluster's maximum node count (it scales to zero when idle)
    name: str | None  # None: batch_endpoint_name() builds it from prefix, stack and suffix
    mini_batch_size: int | None  # files per scoring call; None: AzureML's default (10)
    output_action: BatchOutputAction


BATCH_ENDPOINT_FIELDS = (
    "model",
    "version",
    "instanceType",
    "maxInstances",
    "name",
    "miniBatchSize",
    "outputAction",
)
BATCH_ENDPOINT_DEFAULTS: dict[str, Any] = {
    # General purpose, what Learn's batch examples size their clusters with.
    "instanceType": "Standard_DS3_v2",
    "maxInstances": 2,
    "outputAction": BatchOutputAction.APPEND_ROW.value,
}
# Learn, "Deploy models for scoring in batch endpoints": endpoint names are unique within the
# Azure region (the invocation URI is https://<name>.<region>.inference.ml.azure.com/jobs);
# the characters as for online endpoints.
BATCH_ENDPOINT_NAME_RULE = naming.NameRule(
    "batch endpoint", 3, 32, _ENDPOINT_NAME, _ENDPOINT_NAME_ALLOWED
)
_MAX_BATCH_INSTANCES = 100
_MAX_MINI_BATCH_SIZE = 10_000


def batch_endpoint_name(spec: BatchEndpointSpec, prefix: str, stack: str, suffix: str) -> str:
    """`batchEndpoint.name`, or prefix, stack and the stack's unique suffix ('-be-')."""
    return spec.name or f"{prefix}-{naming.stack_slug(stack)}-be-{suffix}"


def _batch_endpoint(ours: Mapping[str, Any], registry: ModelRegistry) -> BatchEndpointSpec | None:
    given = _object(ours, "batchEndpoint")
    if given is None:
        return None
    values, model, version, instance_type, name = _deployment(
        "batchEndpoint",
        given,
        BATCH_ENDPOINT_FIELDS,
        BATCH_ENDPOINT_DEFAULTS,
        registry,
        BATCH_ENDPOINT_NAME_RULE,
    )
    max_instances = _positive(
        "batchEndpoint.maxInstances", values["maxInstances"], _MAX_BATCH_INSTANCES
    )
    mini_batch = values.get("miniBatchSize")
    if mini_batch is not None:
        mini_batch = _positive("batchEndpoint.miniBatchSize", mini_batch, _MAX_MINI_BATCH_SIZE)
    try:
        output_action = BatchOutputAction(values["outputAction"])
    except ValueError:
        allowed = ", ".join(m.value for m in BatchOutputAction)
        raise ConfigError(
            "batchEndpoint.outputAction",
            values["outputAction"],
            f"is not allowed; allowed: {allowed}",
        ) from None
    return BatchEndpointSpec(
        model, version, instance_type, max_instances, name, mini_batch, output_action
    )


# --- the AzureML workspace's managed network ----------------------------------------------

# ARM's spelling (workspaceRP ManagedNetworkSettings.isolationMode).
ISOLATION_MODES: Mapping[ManagedNetworkMode, str] = MappingProxyType(
    {
        ManagedNetworkMode.OFF: "Disabled",
        ManagedNetworkMode.ALLOW_INTERNET_OUTBOUND: "AllowInternetOutbound",
        ManagedNetworkMode.ALLOW_ONLY_APPROVED_OUTBOUND: "AllowOnlyApprovedOutbound",
    }
)
ONE_WAY_NOTE = (
    "it cannot be turned off again (Learn, Managed virtual network isolation: once enabled, "
    "a workspace's managed network cannot be disabled)"
)


def _managed_network(
    ours: Mapping[str, Any], private_link: bool, *, serving: bool
) -> ManagedNetworkMode:
    mode = _enum(
        ours,
        "amlManagedNetwork",
        ManagedNetworkMode,
        ManagedNetworkMode(DEFAULTS["amlManagedNetwork"]),
    )
    if private_link and serving and mode is ManagedNetworkMode.OFF:
        raise ConfigError(
            "amlManagedNetwork",
            mode.value,
            "is not allowed with privateLink and an endpoint or batchEndpoint: deployments reach "
            "the private workspace only through its managed network; set `pulumi config set "
            f"{NAMESPACE}:amlManagedNetwork allowOnlyApprovedOutbound` (or "
            f"allowInternetOutbound); {ONE_WAY_NOTE}",
        )
    return mode


# --- Unity Catalog models -------------------------------------------------------------------

UNITY_CATALOG_FIELDS = ("catalog", "schema")
# Automatic enablement gives every new workspace a workspace catalog named after the workspace,
# whose `default` schema all workspace users may USE and CREATE MODEL in (Learn, "Manage
# privileges in Unity Catalog", Workspace catalog privileges; "Get started with Unity Catalog").
DEFAULT_MODEL_SCHEMA = "default"
# Unity Catalog names: no '.', ' ', '/' or control characters, at most 255 characters, stored in
# lowercase (Learn, "Names"); lowercase here, so the three-level name MLflow gets is the stored one.
_UC_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]{0,254}")
# Unity Catalog needs Databricks Runtime 11.3 LTS or above (Learn, "Unity Catalog requirements").
UC_MIN_RUNTIME = (11, 3)
_RUNTIME = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)\.x-(?P<flavor>[a-z0-9-]+)")


def workspace_catalog(prefix: str, stack: str) -> str:
    """The workspace catalog automatic enablement creates: the Databricks workspace's name, in
    the form Unity Catalog stores (lowercase, '_' for '-')."""
    return naming.resource_names(prefix, stack).databricks_workspace.replace("-", "_").lower()


def _unity_catalog(
    ours: Mapping[str, Any], prefix: str, stack: str, registry: ModelRegistry
) -> UnityCatalogSpec | None:
    given = _object(ours, "unityCatalog")
    if registry is not ModelRegistry.UNITY_CATALOG:
        if given is not None:
            raise ConfigError(
                "unityCatalog",
                json.dumps(given),
                f"is only used with modelRegistry unity-catalog, not {registry.value}; "
                f"remove it (pulumi config rm {NAMESPACE}:unityCatalog)",
            )
        return None
    given = given or {}
    _reject_unknown("unityCatalog.", given, UNITY_CATALOG_FIELDS)
    values = {"catalog": workspace_catalog(prefix, stack), "schema": DEFAULT_MODEL_SCHEMA}
    values.update(given)
    for key, value in values.items():
        if not isinstance(value, str) or not _UC_NAME.fullmatch(value):
            raise ConfigError(
                f"unityCatalog.{key}",
                value,
                "is not a Unity Catalog name: 1-255 lowercase letters, digits, '_' or '-'",
            )
    return UnityCatalogSpec(catalog=values["catalog"], schema=values["schema"])


def _check_cluster_runtime(cluster: ClusterSpec, registry: ModelRegistry) -> None:
    """Refuse a runtime and access mode that cannot run the notebook or reach Unity Catalog."""
    match = _RUNTIME.match(cluster.spark_version)
    if match is None:
        return  # other checks own the runtime key's shape
    ml_runtime = "-ml-" in f"-{match['flavor']}-"
    # Standard access mode does not support Databricks Runtime for ML (Learn, "Standard compute
    # requirements and limitations"); the ML runtime needs dedicated access mode.
    if ml_runtime and cluster.access_mode is AccessMode.STANDARD:
        raise ConfigError(
            "cluster.sparkVersion",
            cluster.spark_version,
            "is a Databricks Runtime for ML, which cluster.accessMode standard does not support; "
            "set cluster.accessMode dedicated (with cluster.singleUser) or a runtime without ML",
        )
    version = (int(match["major"]), int(match["minor"]))
    if registry is ModelRegistry.UNITY_CATALOG and version < UC_MIN_RUNTIME:
        raise ConfigError(
            "cluster.sparkVersion",
            cluster.spark_version,
            "cannot use Unity Catalog (modelRegistry unity-catalog): it needs Databricks Runtime "
            "11.3 LTS or above; set a current runtime such as " + DEFAULT_SPARK_VERSION,
        )


# --- enterprise controls: diagnostics, team access, budget, workspace storage firewall -------

# Log Analytics interactive retention: 30..730 days on the PerGB2018 tier (Learn, "Manage data
# retention in a Log Analytics workspace"). 90 days by default: a quarter of audit trail to
# investigate from, the usual minimum of security baselines, at a modest cost beyond the 31
# days the tier includes; a central SOC workspace (diagnostics.workspaceId) sets its own.
DIAGNOSTICS_DEFAULTS: dict[str, Any] = {"enabled": True, "workspaceId": None, "retentionDays": 90}
MIN_LOG_RETENTION_DAYS = 30
MAX_LOG_RETENTION_DAYS = 730
_LOG_ANALYTICS_ID = re.compile(
    r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/"
    r"Microsoft\.OperationalInsights/workspaces/[^/]+",
    re.IGNORECASE,
)
ACCESS_FIELDS = ("dataScientists", "readers")
PRINCIPAL_FIELDS = ("objectId", "type")
BUDGET_FIELDS = ("amount", "contactEmails", "thresholds")
THRESHOLD_FIELDS = ("percent", "type")
# Consumption Budget notifications: threshold 0..1000 percent, at most five per budget, at most
# 50 contact e-mails (azure-rest-api-specs consumption 2023-11-01, Notification).
MAX_BUDGET_NOTIFICATIONS = 5
MAX_BUDGET_THRESHOLD = 1000
MAX_CONTACT_EMAILS = 50
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class PrincipalType(StrEnum):
    """An Entra ID principal's kind, as role assignments spell it."""

    GROUP = "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal"
    USER = "User"


@dataclass(frozen=True)
class Principal:
    object_id: str  # lowercase GUID
    type: PrincipalType


@dataclass(frozen=True)
class DiagnosticsSpec:
    enabled: bool = True
    workspace_id: str | None = None  # None: the stack's own Log Analytics workspace
    retention_days: int = DIAGNOSTICS_DEFAULTS["retentionDays"]  # the stack's workspace


@dataclass(frozen=True)
class AccessSpec:
    data_scientists: tuple[Principal, ...] = ()  # AzureML Data Scientist + blob reader
    readers: tuple[Principal, ...] = ()  # Reader on the resource group


class BudgetThresholdType(StrEnum):
    ACTUAL = "Actual"
    FORECASTED = "Forecasted"


@dataclass(frozen=True)
class BudgetThreshold:
    percent: float
    type: BudgetThresholdType


DEFAULT_BUDGET_THRESHOLDS = (
    BudgetThreshold(80, BudgetThresholdType.ACTUAL),
    BudgetThreshold(100, BudgetThresholdType.ACTUAL),
    BudgetThreshold(100, BudgetThresholdType.FORECASTED),
)


@dataclass(frozen=True)
class BudgetSpec:
    amount: float  # per month, in the billing currency
    contact_emails: tuple[str, ...]
    thresholds: tuple[BudgetThreshold, ...] = DEFAULT_BUDGET_THRESHOLDS


def _diagnostics(ours: Mapping[str, Any]) -> DiagnosticsSpec:
    given = _object(ours, "diagnostics") or {}
    _reject_unknown("diagnostics.", given, tuple(DIAGNOSTICS_DEFAULTS))
    values = {**DIAGNOSTICS_DEFAULTS, **given}
    workspace_id = values["workspaceId"]
    if workspace_id is not None and (
        not isinstance(workspace_id, str) or not _LOG_ANALYTICS_ID.fullmatch(workspace_id)
    ):
        raise ConfigError(
            "diagnostics.workspaceId",
            workspace_id,
            "is not a Log Analytics workspace id (/subscriptions/<id>/resourceGroups/<group>/"
            "providers/Microsoft.OperationalInsights/workspaces/<name>)",
        )
    return DiagnosticsSpec(
        enabled=_bool(values, "enabled", True, "diagnostics."),
        workspace_id=workspace_id,
        retention_days=_int(
            "diagnostics.retentionDays",
            values["retentionDays"],
            MIN_LOG_RETENTION_DAYS,
            MAX_LOG_RETENTION_DAYS,
        ),
    )


def _access(ours: Mapping[str, Any]) -> AccessSpec:
    given = _object(ours, "access") or {}
    _reject_unknown("access.", given, ACCESS_FIELDS)
    return AccessSpec(
        data_scientists=_principals("access.dataScientists", given.get("dataScientists")),
        readers=_principals("access.readers", given.get("readers")),
    )


def _principals(key: str, given: Any) -> tuple[Principal, ...]:
    """A list of {objectId, type} (as the state bootstrap's `principals`); [] when unset."""
    value = given
    if isinstance(given, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(given)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            key, given, "is not a list of {objectId, type} with type Group, ServicePrincipal "
            "or User",
        )  # fmt: skip
    found: list[Principal] = []
    for index, entry in enumerate(value):
        path = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(path, entry, "is not an object with objectId and type")
        _reject_unknown(f"{path}.", entry, PRINCIPAL_FIELDS)
        object_id = entry.get("objectId")
        if not isinstance(object_id, str) or not _GUID.fullmatch(object_id):
            raise ConfigError(
                f"{path}.objectId",
                object_id,
                "is not a GUID: the principal's object id (az ad group show --query id)",
            )
        kind = entry.get("type")
        try:
            principal_type = PrincipalType(kind)
        except ValueError:
            allowed = ", ".join(t.value for t in PrincipalType)
            raise ConfigError(f"{path}.type", kind, f"is not allowed; allowed: {allowed}") from None
        if any(p.object_id == object_id.lower() for p in found):
            raise ConfigError(f"{path}.objectId", object_id, "is listed twice")
        found.append(Principal(object_id.lower(), principal_type))
    return tuple(found)


def _budget(ours: Mapping[str, Any]) -> BudgetSpec | None:
    given = _object(ours, "budget")
    if given is None:
        return None
    _reject_unknown("budget.", given, BUDGET_FIELDS)
    amount = given.get("amount")
    if isinstance(amount, str):
        with contextlib.suppress(ValueError):
            amount = float(amount)
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not amount > 0:
        what = "is required" if amount is None else "is not a positive number"
        raise ConfigError(
            "budget.amount", amount, f"{what}: the monthly amount in the billing currency"
        )
    emails = given.get("contactEmails")
    if isinstance(emails, str):
        with contextlib.suppress(json.JSONDecodeError):
            emails = json.loads(emails)
    if (
        not isinstance(emails, list)
        or not 1 <= len(emails) <= MAX_CONTACT_EMAILS
        or not all(isinstance(e, str) and _EMAIL.fullmatch(e) for e in emails)
    ):
        raise ConfigError(
            "budget.contactEmails",
            emails,
            f"is not a list of 1 to {MAX_CONTACT_EMAILS} e-mail addresses (who gets the alerts)",
        )
    thresholds = (
        _thresholds(given["thresholds"])
        if given.get("thresholds") is not None
        else DEFAULT_BUDGET_THRESHOLDS
    )
    return BudgetSpec(float(amount), tuple(dict.fromkeys(emails)), thresholds)


def _thresholds(given: Any) -> tuple[BudgetThreshold, ...]:
    value = given
    if isinstance(given, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(given)
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BUDGET_NOTIFICATIONS:
        raise ConfigError(
            "budget.thresholds",
            given,
            f"is not a list of 1 to {MAX_BUDGET_NOTIFICATIONS} {{percent, type}} (a budget "
            "takes at most five notifications)",
        )
    found: list[BudgetThreshold] = []
    for index, entry in enumerate(value):
        path = f"budget.thresholds[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(path, entry, "is not an object with percent and type")
        _reject_unknown(f"{path}.", entry, THRESHOLD_FIELDS)
        percent = entry.get("percent")
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 < percent <= MAX_BUDGET_THRESHOLD
        ):
            raise ConfigError(
                f"{path}.percent", percent, f"is not a percentage above 0, at most "
                f"{MAX_BUDGET_THRESHOLD}",
            )  # fmt: skip
        try:
            kind = BudgetThresholdType(entry.get("type", BudgetThresholdType.ACTUAL.value))
        except ValueError:
            allowed = ", ".join(t.value for t in BudgetThresholdType)
            raise ConfigError(
                f"{path}.type", entry.get("type"), f"is not allowed; allowed: {allowed}"
            ) from None
        threshold = BudgetThreshold(percent, kind)
        if threshold in found:
            raise ConfigError(path, json.dumps(entry), "is listed twice")
        found.append(threshold)
    return tuple(found)


def _storage_firewall(ours: Mapping[str, Any], private: bool) -> bool:
    """The Databricks workspace storage firewall: on by default only with private endpoints,
    which the firewalled account needs for the clusters to reach it (blob and dfs)."""
    on = _bool(ours, "databricksStorageFirewall", private)
    if on and not private:
        raise ConfigError(
            "databricksStorageFirewall",
            True,
            "needs privateLink true or databricksPrivateLink backend/full: the firewalled "
            "workspace storage is reached through blob and dfs private endpoints in the "
            "endpoint subnet",
        )
    return on


def _sections() -> dict[str, tuple[str, ...] | None]:
    """Object keys and their fields (None: any field name), for flat keys set without --path."""
    return {
        "network": tuple(NETWORK_DEFAULTS),
        "cluster": tuple(CLUSTER_DEFAULTS),
        "servicePrincipal": SERVICE_PRINCIPAL_FIELDS,
        "endpoint": ENDPOINT_FIELDS,
        "batchEndpoint": BATCH_ENDPOINT_FIELDS,
        "unityCatalog": UNITY_CATALOG_FIELDS,
        "diagnostics": tuple(DIAGNOSTICS_DEFAULTS),
        "access": ACCESS_FIELDS,
        "budget": BUDGET_FIELDS,
        "tags": None,
    }
