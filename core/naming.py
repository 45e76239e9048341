"""Resource names built from prefix and stack, checked against Azure's naming rules.

Pure functions: tests and the teardown check call them without Pulumi.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SUFFIX_LENGTH = 6
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,9}$")


@dataclass(frozen=True)
class NameRule:
    what: str
    min_len: int
    max_len: int
    pattern: re.Pattern[str]
    allowed: str

    def problem(self, name: str) -> str | None:
        """Why `name` breaks this rule, or None when it is valid."""
        if not self.min_len <= len(name) <= self.max_len:
            return (
                f"{self.what} name {name!r} is {len(name)} characters, "
                f"allowed {self.min_len}-{self.max_len} ({self.allowed})"
            )
        if not self.pattern.fullmatch(name):
            return f"{self.what} name {name!r} is not allowed ({self.allowed})"
        return None


# Azure's rules: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
RULES = {
    "resource_group": NameRule(
        "resource group",
        1,
        90,
        re.compile(r"[\w\-.()]*[\w\-()]"),
        "letters, digits, '_', '-', '.', '(', ')', not ending in '.'",
    ),
    "databricks_workspace": NameRule(
        "Databricks workspace",
        3,
        64,
        re.compile(r"[A-Za-z0-9_\-]+"),
        "letters, digits, '_' and '-'",
    ),
    "aml_workspace": NameRule(
        "AzureML workspace",
        3,
        33,
        re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*"),
        "letters, digits, '_' and '-', starting with a letter or digit",
    ),
    "storage_account": NameRule(
        "storage account",
        3,
        24,
        re.compile(r"[a-z0-9]+"),
        "lowercase letters and digits",
    ),
    "key_vault": NameRule(
        "key vault",
        3,
        24,
        re.compile(r"[A-Za-z](?!.*--)[A-Za-z0-9\-]*[A-Za-z0-9]"),
        "letters, digits and single '-', starting with a letter, ending with a letter or digit",
    ),
    "container_registry": NameRule(
        "container registry",
        5,
        50,
        re.compile(r"[A-Za-z0-9]+"),
        "letters and digits",
    ),
    "log_analytics": NameRule(
        "Log Analytics workspace",
        4,
        63,
        re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]"),
        "letters, digits and '-', starting and ending with a letter or digit",
    ),
}


def _problems(names: object) -> list[str]:
    found = []
    for field, rule in RULES.items():
        if hasattr(names, field):
            problem = rule.problem(getattr(names, field))
            if problem:
                found.append(problem)
    return found


@dataclass(frozen=True)
class ResourceNames:
    """The names that are unique within the subscription: prefix and stack make them so."""

    resource_group: str
    managed_resource_group: str
    virtual_network: str
    network_security_group: str
    nat_gateway: str
    public_ip: str
    databricks_workspace: str
    aml_workspace: str
    log_analytics: str
    application_insights: str
    cluster: str  # Databricks names, scoped to the workspace
    secret_scope: str
    endpoint_network_security_group: str
    route_table: str  # egress through a firewall
    service_credential_connector: str  # the access connector behind the service credential

    def problems(self) -> list[str]:
        """Every name that breaks Azure's rules, as messages."""
        return _problems(self)


@dataclass(frozen=True)
class GlobalNames:
    """The names Azure wants unique worldwide, and the service credential's, unique in the
    region's Unity Catalog metastore: they carry the stack's unique suffix."""

    storage_account: str
    key_vault: str
    container_registry: str
    # Every workspace of the account in the region shares the metastore (Learn, "Unity Catalog
    # best practices": one metastore per region); Unity Catalog stores names in lowercase.
    service_credential: str

    def problems(self) -> list[str]:
        return _problems(self)


def stack_slug(stack: str) -> str:
    """The stack name as it appears in resource names: lowercase letters, digits and '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")
    return slug or "stack"


def unique_suffix(subscription_id: str, resource_group: str, stack: str) -> str:
    """Short, stable suffix for globally unique names: same inputs, same suffix."""
    digest = hashlib.sha256(f"{subscription_id.lower()}/{resource_group}/{stack}".encode())
    return digest.hexdigest()[:SUFFIX_LENGTH]


def resource_group_name(prefix: str, stack: str) -> str:
    return f"{prefix}-{stack_slug(stack)}-rg"


def resource_names(prefix: str, stack: str) -> ResourceNames:
    base = f"{prefix}-{stack_slug(stack)}"
    return ResourceNames(
        resource_group=resource_group_name(prefix, stack),
        managed_resource_group=f"{base}-databricks-managed-rg",
        virtual_network=f"{base}-vnet",
        network_security_group=f"{base}-databricks-nsg",
        nat_gateway=f"{base}-natgw",
        public_ip=f"{base}-natgw-pip",
        databricks_workspace=f"{base}-dbw",
        aml_workspace=f"{base}-mlw",
        log_analytics=f"{base}-log",
        application_insights=f"{base}-appi",
        cluster=f"{base}-mlflow",
        secret_scope=f"{base}-azureml",
        endpoint_network_security_group=f"{base}-endpoints-nsg",
        route_table=f"{base}-firewall-rt",
        service_credential_connector=f"{base}-azureml-ac",
    )


def global_names(prefix: str, stack: str, suffix: str) -> GlobalNames:
    """Worldwide-unique names for one stack. `suffix` comes from `unique_suffix`."""
    base = f"{prefix}-{stack_slug(stack)}"
    compact = base.replace("-", "")
    return GlobalNames(
        storage_account=f"{compact}{suffix}",
        key_vault=f"{base}-{suffix}",
        container_registry=f"{compact}{suffix}",
        service_credential=f"{base}-azureml-{suffix}".lower(),
    )


def name_problems(prefix: str, stack: str) -> list[str]:
    """Naming problems for prefix and stack, independent of the suffix's value."""
    placeholder = "0" * SUFFIX_LENGTH
    return (
        resource_names(prefix, stack).problems()
        + global_names(prefix, stack, placeholder).problems()
    )


def fitting_lengths(prefix: str, stack: str) -> tuple[int | None, int | None]:
    """When prefix and stack give a name too long: the longest prefix (a cut of this one, 2-10
    characters) that fits this stack, and the longest stack name (a cut of its slug) that fits
    this prefix; None where no cut fits. The key vault's 24 characters bind first:
    `<prefix>-<stack>-<6-character suffix>`, so prefix and stack slug take 16 together."""
    slug = stack_slug(stack)
    prefixes = [k for k in range(2, len(prefix) + 1) if not name_problems(prefix[:k], stack)]
    stacks = [
        n
        for n in range(1, len(slug) + 1)
        if slug[:n] == slug[:n].rstrip("-") and not name_problems(prefix, slug[:n])
    ]
    return (max(prefixes) if prefixes else None, max(stacks) if stacks else None)
