"""Rules of the databricks-azureml guard, as plain functions over a resource's properties.

Each rule takes the properties the policy engine shows for a resource (wire names, camelCase, as in
the ARM / Databricks API) and returns the violations it finds as messages that say what is wrong and
what is expected. An empty list means compliant. No Pulumi engine is needed to call them: tests feed
plain dicts, `guard_policies` wraps them into CrossGuard policies.

One module per resource family; `common` holds what they share (type tokens, `lookup` and its
MISSING / UNKNOWN markers, `Declared`, `StackViolation`). This package re-exports every rule and
constant, so `import guard_rules as rules` sees one flat namespace.
"""

from .access import (
    ROLE_ASSIGNMENT,
    WORKSPACE_ADMIN_ROLES,
    role_assignment_not_databricks_admin,
)
from .azureml import (
    AML_PRIVATE_LINK_GROUP,
    aml_private_endpoints,
    aml_workspace_private_when_private_link,
    aml_workspace_system_identity,
    no_dual_tracking_with_private_link,
    online_endpoint_private_when_private_link,
)
from .clusters import (
    ATTACHING_PERMISSION_LEVELS,
    AUTOTERMINATION_LIMIT_KEY,
    DATABRICKS_PERMISSIONS,
    DEFAULT_AUTOTERMINATION_LIMIT,
    MAX_AUTOTERMINATION_MINUTES,
    MIN_AUTOTERMINATION_MINUTES,
    SECRET_NAME_PARTS,
    SECRET_REFERENCE,
    WORKSPACE_USERS_GROUP,
    autotermination_limit,
    cluster_auto_termination,
    cluster_credentials_not_readable_by_all_users,
    cluster_secret_env_vars,
    is_secret_name,
)
from .common import (
    AML_WORKSPACE,
    AZURE_NATIVE_PREFIX,
    DATABRICKS_CLUSTER,
    DATABRICKS_WORKSPACE,
    KEY_VAULT,
    MISSING,
    ONLINE_ENDPOINT,
    PRIVATE_ENDPOINT,
    STORAGE_ACCOUNT,
    UNKNOWN,
    Declared,
    StackViolation,
    lookup,
)
from .databricks import (
    BROWSER_AUTHENTICATION_GROUP,
    DATABRICKS_UI_API_GROUP,
    NO_AZURE_DATABRICKS_RULES,
    VNET_INJECTION_PARAMETERS,
    databricks_private_link_backend,
    databricks_private_link_full,
    databricks_workspace_no_public_ip,
    databricks_workspace_premium_sku,
    databricks_workspace_vnet_injection,
)
from .diagnostics import (
    DIAGNOSTIC_SETTING,
    LOGGED_TYPES,
    diagnostic_settings_to_workspace,
)
from .encryption import (
    DBFS_ENCRYPTION,
    compliance_has_customer_managed_keys,
)
from .landing_zone import databricks_egress, subnets_have_nsg
from .locks import (
    GROUP_LOCK,
    LOCK_LEVELS,
    RESOURCE_GROUP,
    SCOPE_LOCK,
    protected_group_locked,
    protected_stack_locked,
)
from .serving import private_link_managed_network_not_off, private_link_serving_has_managed_network
from .state_backend import (
    BLOB_CONTAINER,
    BLOB_SERVICE_PROPERTIES,
    KEY_VAULT_KEY,
    MIN_STATE_SOFT_DELETE_DAYS,
    STATE_CONTAINER_NAME,
    state_backend_blob_recovery,
    state_backend_entra_only,
    state_containers,
    state_key_vault_purge_protection,
)
from .storage import (
    ACCEPTED_TLS_VERSIONS,
    key_vault_rbac_authorization,
    key_vault_soft_delete,
    storage_account_minimum_tls,
    storage_account_no_public_blob_access,
)
from .storage_firewall import (
    FIREWALL_GROUPS,
    databricks_storage_firewall_whole,
)
from .tags import (
    REQUIRED_TAGS,
    azure_native_accepts_tags,
    is_taggable,
    required_tags,
)
from .unity_catalog import cluster_fits_unity_catalog_models

__all__ = [
    "ACCEPTED_TLS_VERSIONS",
    "AML_PRIVATE_LINK_GROUP",
    "AML_WORKSPACE",
    "ATTACHING_PERMISSION_LEVELS",
    "AUTOTERMINATION_LIMIT_KEY",
    "AZURE_NATIVE_PREFIX",
    "BLOB_CONTAINER",
    "BLOB_SERVICE_PROPERTIES",
    "BROWSER_AUTHENTICATION_GROUP",
    "DATABRICKS_CLUSTER",
    "DATABRICKS_PERMISSIONS",
    "DATABRICKS_UI_API_GROUP",
    "DATABRICKS_WORKSPACE",
    "DBFS_ENCRYPTION",
    "DEFAULT_AUTOTERMINATION_LIMIT",
    "DIAGNOSTIC_SETTING",
    "FIREWALL_GROUPS",
    "GROUP_LOCK",
    "KEY_VAULT",
    "KEY_VAULT_KEY",
    "LOCK_LEVELS",
    "LOGGED_TYPES",
    "MAX_AUTOTERMINATION_MINUTES",
    "MIN_AUTOTERMINATION_MINUTES",
    "MIN_STATE_SOFT_DELETE_DAYS",
    "MISSING",
    "NO_AZURE_DATABRICKS_RULES",
    "ONLINE_ENDPOINT",
    "PRIVATE_ENDPOINT",
    "REQUIRED_TAGS",
    "RESOURCE_GROUP",
    "ROLE_ASSIGNMENT",
    "SCOPE_LOCK",
    "SECRET_NAME_PARTS",
    "SECRET_REFERENCE",
    "STATE_CONTAINER_NAME",
    "STORAGE_ACCOUNT",
    "UNKNOWN",
    "VNET_INJECTION_PARAMETERS",
    "WORKSPACE_ADMIN_ROLES",
    "WORKSPACE_USERS_GROUP",
    "Declared",
    "StackViolation",
    "aml_private_endpoints",
    "aml_workspace_private_when_private_link",
    "aml_workspace_system_identity",
    "autotermination_limit",
    "azure_native_accepts_tags",
    "cluster_auto_termination",
    "cluster_credentials_not_readable_by_all_users",
    "cluster_fits_unity_catalog_models",
    "cluster_secret_env_vars",
    "compliance_has_customer_managed_keys",
    "databricks_egress",
    "databricks_private_link_backend",
    "databricks_private_link_full",
    "databricks_storage_firewall_whole",
    "databricks_workspace_no_public_ip",
    "databricks_workspace_premium_sku",
    "databricks_workspace_vnet_injection",
    "diagnostic_settings_to_workspace",
    "is_secret_name",
    "is_taggable",
    "key_vault_rbac_authorization",
    "key_vault_soft_delete",
    "lookup",
    "no_dual_tracking_with_private_link",
    "online_endpoint_private_when_private_link",
    "private_link_managed_network_not_off",
    "private_link_serving_has_managed_network",
    "protected_group_locked",
    "protected_stack_locked",
    "required_tags",
    "role_assignment_not_databricks_admin",
    "state_backend_blob_recovery",
    "state_backend_entra_only",
    "state_containers",
    "state_key_vault_purge_protection",
    "storage_account_minimum_tls",
    "storage_account_no_public_blob_access",
    "subnets_have_nsg",
]
