"""The stack's config as a whole: the top-level keys, the mode rules between them, and
`parse_config`, which reads every concern's keys into one StackConfig.

`parse_config` is pure (a mapping of raw Pulumi config values in, `StackConfig` out), so tests
call it directly; `core.config.load.load_config` feeds it what the Pulumi runtime holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

import core.config.schema as schema
from core import azure_names, config_keys, naming
from core.config.cluster import ClusterSpec, _cluster, check_no_everyone_group
from core.config.controls import check_image_build, check_protect_managed_network
from core.config.encryption import (
    ComplianceSpec,
    CustomerManagedKeySpec,
    _check_cluster_node,
    _compliance,
    _customer_managed_key,
)
from core.config.enterprise import (
    AccessSpec,
    BudgetSpec,
    DiagnosticsSpec,
    _access,
    _budget,
    _diagnostics,
    _storage_firewall,
    _tags,
    check_no_secret_tags,
)
from core.config.enums import DatabricksPrivateLink, ManagedNetworkMode, ModelRegistry, TrackingMode
from core.config.landing_zone import (
    NameOverrides,
    PrivateDnsSpec,
    _names,
    _private_dns,
    _resource_group_name,
)
from core.config.network import (
    NetworkPlan,
    _network,
    check_vnet_subscription,
)
from core.config.readers import _object, _string, read_fields
from core.config.schema import LOCATION_KEY
from core.config.serverless import DatabricksAccountSpec, _databricks_account
from core.config.serving import (
    BatchEndpointSpec,
    EndpointSpec,
    _batch_endpoint,
    _endpoint,
    _managed_network,
    check_endpoint_names,
)
from core.config.tracking import (
    ServicePrincipal,
    UnityCatalogSpec,
    _check_cluster_runtime,
    _check_credentials,
    _secret,
    _service_principal,
    _unity_catalog,
    check_service_credential,
    needs_azureml_identity,
)
from core.errors import NAMESPACE, ConfigError, hidden_keys

KNOWN_KEYS = schema.keys(schema.StackSchema)
_LOCATION = re.compile(r"[a-z][a-z0-9]+")
# Scalar keys' static defaults: Pulumi.yaml's `config:` block declares the same (generated from
# the schema). trackingMode, modelRegistry and databricksStorageFirewall default by mode.
DEFAULTS: dict[str, Any] = {
    key: value
    for key, value in schema.given_defaults(schema.StackSchema).items()
    if isinstance(value, str | bool | int)
}


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
    # landing zone (core/config/landing_zone.py)
    private_dns: PrivateDnsSpec = field(default_factory=lambda: PrivateDnsSpec())
    resource_group_name: str | None = None  # an existing group; None: the stack's own
    names: NameOverrides = field(default_factory=lambda: NameOverrides())
    # encryption and compliance (core/config/encryption.py)
    customer_managed_key: CustomerManagedKeySpec | None = None
    require_infrastructure_encryption: bool = False
    databricks_compliance: ComplianceSpec | None = None
    # serverless compute's NCC (core/config/serverless.py)
    databricks_account: DatabricksAccountSpec | None = None

    @property
    def service_credential(self) -> bool:
        """AzureML is reached through a Unity Catalog service credential: the mode needs an
        Azure identity and no servicePrincipal is set (core/config/tracking.py)."""
        return self.service_principal is None and needs_azureml_identity(
            self.tracking_mode, self.model_registry
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
    config_keys.check_keys(raw, KNOWN_KEYS, schema.sections())
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    top = read_fields(schema.StackSchema, ours, "")  # unknown keys first, then each value

    location = _location(raw)
    azure_names.check_region(LOCATION_KEY, location, ours.get("unlistedRegion"))
    prefix = _prefix(ours, stack)
    private_link = top["private_link"]
    tracking_mode, model_registry = _modes(top, private_link)
    databricks_private_link = top["databricks_private_link"]
    network = _network(
        ours, private_link or databricks_private_link is not DatabricksPrivateLink.NONE
    )
    check_vnet_subscription(raw, network)
    compliance = _compliance(ours)
    cluster = _checked_cluster(ours, model_registry, compliance)
    service_principal = _service_principal(ours)
    secret = _secret(ours, secret_keys)
    _check_credentials(service_principal, secret)
    check_service_credential(cluster, tracking_mode, model_registry, service_principal)
    if service_principal is not None:
        check_no_everyone_group(cluster)

    check_no_secret_tags(secret_keys)
    endpoint = _endpoint(ours, prefix, stack, model_registry)
    batch_endpoint = _batch_endpoint(ours, model_registry)
    check_endpoint_names(endpoint, batch_endpoint, prefix, stack)

    return _checked(
        StackConfig(
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
            container_registry=top["container_registry"],
            protect=top["protect"],
            purge_on_destroy=top["purge_on_destroy"],
            tags=_tags(ours),
            endpoint=endpoint,
            batch_endpoint=batch_endpoint,
            aml_managed_network=_managed_network(
                top["aml_managed_network"],
                private_link,
                serving=bool({"endpoint", "batchEndpoint"} & ours.keys()),
            ),
            unity_catalog=_unity_catalog(ours, prefix, stack, model_registry),
            diagnostics=_diagnostics(ours),
            access=_access(ours),
            budget=_budget(ours),
            databricks_storage_firewall=_storage_firewall(
                top["databricks_storage_firewall"], network.endpoint_subnet is not None
            ),
            private_dns=_private_dns(ours),
            resource_group_name=_resource_group_name(ours),
            names=_names(ours),
            customer_managed_key=_customer_managed_key(ours),
            require_infrastructure_encryption=top["require_infrastructure_encryption"],
            databricks_compliance=compliance,
            databricks_account=_databricks_account(ours),
        )
    )


def _checked_cluster(
    ours: Mapping[str, Any], model_registry: ModelRegistry, compliance: ComplianceSpec | None
) -> ClusterSpec:
    """The cluster, its VM size checked against the compliance profile (or its default
    adapted to it) and its runtime against the registry."""
    cluster = _cluster(ours)
    given_node = "nodeType" in (_object(ours, "cluster") or {})
    cluster = cluster.model_copy(
        update={"node_type": _check_cluster_node(cluster.node_type, given_node, compliance)}
    )
    _check_cluster_runtime(cluster, model_registry)
    return cluster


def _checked(config: StackConfig) -> StackConfig:
    """`config`, once the enterprise controls' cross-field rules (core/config/controls.py)
    accept it."""
    check_protect_managed_network(config.protect, config.aml_managed_network.value)
    check_image_build(
        private_link=config.private_link,
        container_registry=config.container_registry,
        online=config.endpoint is not None,
        batch=config.batch_endpoint is not None,
    )
    return config


def _modes(top: Mapping[str, Any], private_link: bool) -> tuple[TrackingMode, ModelRegistry]:
    """trackingMode and modelRegistry (as read, None when unset), each defaulting by the other
    and by privateLink."""
    default_mode = TrackingMode.EXCLUSIVE if private_link else TrackingMode.DUAL
    tracking_mode = top["tracking_mode"] or default_mode
    default_registry = (
        ModelRegistry.AZUREML
        if tracking_mode is TrackingMode.EXCLUSIVE
        else ModelRegistry.UNITY_CATALOG
    )
    model_registry = top["model_registry"] or default_registry
    if private_link and tracking_mode is TrackingMode.DUAL:
        raise ConfigError(
            "trackingMode",
            "dual",
            "is not supported with privateLink: true: dual-tracking isn't supported with a "
            "private-link AzureML workspace; use trackingMode exclusive",
        )
    return tracking_mode, model_registry


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
        raise ConfigError(
            "prefix", prefix, f"with stack {stack!r}: the {problem}{_fits(prefix, stack)}"
        )
    return prefix


def _fits(prefix: str, stack: str) -> str:
    """Which shorter prefix or stack name fits, with the command that sets it."""
    prefix_len, stack_len = naming.fitting_lengths(prefix, stack)
    ways = []
    if prefix_len is not None:
        ways.append(
            f"a prefix of at most {prefix_len} characters with this stack "
            f"(pulumi config set {NAMESPACE}:prefix {prefix[:prefix_len]})"
        )
    if stack_len is not None:
        short = naming.stack_slug(stack)[:stack_len]
        ways.append(
            f"a stack name of at most {stack_len} characters with prefix {prefix!r} "
            f"(pulumi stack init {short}, then copy the config: pulumi config cp --dest {short})"
        )
    # prefix and stack slug share 16 characters: the key vault's <prefix>-<stack>-<suffix>
    return "; fits: " + ", or ".join(ways) if ways else ""
