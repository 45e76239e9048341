"""Stack config: read once, validated into frozen, typed objects before any resource exists.

Split by concern: `schema` declares every key once; `network`, `cluster`, `tracking` (and the
model registry), `serving` and `enterprise` read their keys; `stack` holds the rules between
them and `parse_config`; `load` reads the Pulumi runtime. The names below stay importable from
`core.config`.
"""

from core.config.cluster import (
    EVERYONE_GROUPS,
    WORKSPACE_USERS_GROUP,
    ClusterSpec,
    everyone_group,
)
from core.config.enterprise import (
    ACCESS_FIELDS,
    BUDGET_FIELDS,
    DEFAULT_BUDGET_THRESHOLDS,
    MAX_BUDGET_NOTIFICATIONS,
    MAX_BUDGET_THRESHOLD,
    MAX_CONTACT_EMAILS,
    MAX_TAG_NAME,
    MAX_TAG_VALUE,
    MAX_TAGS,
    PRINCIPAL_FIELDS,
    STACK_TAG_KEYS,
    THRESHOLD_FIELDS,
    AccessSpec,
    BudgetSpec,
    BudgetThreshold,
    DiagnosticsSpec,
)
from core.config.enums import (
    AccessMode,
    BatchOutputAction,
    BudgetThresholdType,
    DatabricksPrivateLink,
    EndpointAuthMode,
    ManagedNetworkMode,
    ModelRegistry,
    PrincipalType,
    TrackingMode,
)
from core.config.load import (
    load_config,
)
from core.config.network import (
    NetworkPlan,
)
from core.config.schema import (
    DEFAULT_NODE_TYPE,
    DEFAULT_SPARK_VERSION,
    LOCATION_KEY,
    Principal,
    ServicePrincipal,
)
from core.config.serving import (
    BATCH_ENDPOINT_NAME_RULE,
    ENDPOINT_NAME_RULE,
    ISOLATION_MODES,
    ONE_WAY_NOTE,
    BatchEndpointSpec,
    EndpointSpec,
    batch_endpoint_name,
    endpoint_name,
)
from core.config.stack import (
    DEFAULTS,
    KNOWN_KEYS,
    StackConfig,
    parse_config,
)
from core.config.tracking import (
    DEFAULT_MODEL_SCHEMA,
    SERVICE_PRINCIPAL_FIELDS,
    UC_MIN_RUNTIME,
    UNITY_CATALOG_FIELDS,
    UnityCatalogSpec,
    workspace_catalog,
)

__all__ = [
    "ACCESS_FIELDS",
    "BATCH_ENDPOINT_NAME_RULE",
    "BUDGET_FIELDS",
    "DEFAULTS",
    "DEFAULT_BUDGET_THRESHOLDS",
    "DEFAULT_MODEL_SCHEMA",
    "DEFAULT_NODE_TYPE",
    "DEFAULT_SPARK_VERSION",
    "ENDPOINT_NAME_RULE",
    "EVERYONE_GROUPS",
    "ISOLATION_MODES",
    "KNOWN_KEYS",
    "LOCATION_KEY",
    "MAX_BUDGET_NOTIFICATIONS",
    "MAX_BUDGET_THRESHOLD",
    "MAX_CONTACT_EMAILS",
    "MAX_TAGS",
    "MAX_TAG_NAME",
    "MAX_TAG_VALUE",
    "ONE_WAY_NOTE",
    "PRINCIPAL_FIELDS",
    "SERVICE_PRINCIPAL_FIELDS",
    "STACK_TAG_KEYS",
    "THRESHOLD_FIELDS",
    "UC_MIN_RUNTIME",
    "UNITY_CATALOG_FIELDS",
    "WORKSPACE_USERS_GROUP",
    "AccessMode",
    "AccessSpec",
    "BatchEndpointSpec",
    "BatchOutputAction",
    "BudgetSpec",
    "BudgetThreshold",
    "BudgetThresholdType",
    "ClusterSpec",
    "DatabricksPrivateLink",
    "DiagnosticsSpec",
    "EndpointAuthMode",
    "EndpointSpec",
    "ManagedNetworkMode",
    "ModelRegistry",
    "NetworkPlan",
    "Principal",
    "PrincipalType",
    "ServicePrincipal",
    "StackConfig",
    "TrackingMode",
    "UnityCatalogSpec",
    "batch_endpoint_name",
    "endpoint_name",
    "everyone_group",
    "load_config",
    "parse_config",
    "workspace_catalog",
]
