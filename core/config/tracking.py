"""Tracking and registry: the service principal and its secret, the credentials each mode
needs, and Unity Catalog as the model registry."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

import core.config.schema as schema
from core import naming
from core.config.cluster import ClusterSpec, check_no_everyone_group
from core.config.enums import AccessMode, ModelRegistry, TrackingMode
from core.config.readers import _GUID, _object, _reject_unknown, _required_match
from core.config.schema import DEFAULT_SPARK_VERSION
from core.errors import NAMESPACE, ConfigError, secret_like

SERVICE_PRINCIPAL_FIELDS = schema.keys(schema.ServicePrincipal)


@dataclass(frozen=True)
class ServicePrincipal:
    client_id: str
    object_id: str
    tenant_id: str | None  # None: the deployer's tenant


@dataclass(frozen=True)
class UnityCatalogSpec:
    """Where unity-catalog registers models: `<catalog>.<schema>.<model>`."""

    catalog: str
    schema: str

    @property
    def model_schema(self) -> str:
        return f"{self.catalog}.{self.schema}"


def _refuse_secret_in_principal(given: Mapping[str, Any]) -> None:
    """A secret under servicePrincipal (`clientSecret`, `secret`, ...) belongs in its own
    encrypted key: point there, not to the nearest id's name."""
    for key in given:
        if key not in SERVICE_PRINCIPAL_FIELDS and secret_like(key):
            raise ConfigError(
                f"servicePrincipal.{key}",
                given[key],
                "is set for an unknown key: the client secret is its own encrypted key, "
                f"pulumi config set --secret {NAMESPACE}:servicePrincipalSecret <client-secret>"
                f" (and pulumi config rm --path {NAMESPACE}:servicePrincipal.{key})",
                known=False,
            )


def _service_principal(ours: Mapping[str, Any]) -> ServicePrincipal | None:
    given = _object(ours, "servicePrincipal")
    if given is None:
        return None
    _refuse_secret_in_principal(given)
    _reject_unknown("servicePrincipal.", given, SERVICE_PRINCIPAL_FIELDS)
    ids: dict[str, str | None] = {}
    for key in SERVICE_PRINCIPAL_FIELDS:
        value = given.get(key)
        if value is None and key == "tenantId":
            ids[key] = None
            continue
        ids[key] = _required_match(
            f"servicePrincipal.{key}",
            value,
            _GUID,
            "a GUID",
            f"the service principal's {key} as a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        ).lower()
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


def _check_credentials(principal: ServicePrincipal | None, secret: str | None) -> None:
    """The service principal and its secret come together, or not at all."""
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


def needs_azureml_identity(mode: TrackingMode, registry: ModelRegistry) -> bool:
    """Exclusive tracking and the AzureML registry reach AzureML as an Azure identity."""
    return mode is TrackingMode.EXCLUSIVE or registry is ModelRegistry.AZUREML


# Learn, "Use Unity Catalog service credentials to connect to external cloud services",
# Requirements: compute on Databricks Runtime 16.2 or above (15.4 LTS only in Public Preview:
# the strict reading, GA only), Unity Catalog, not SQL warehouses.
SERVICE_CREDENTIAL_MIN_RUNTIME = (16, 2)


# Why a group of every user may not get ACCESS on the service credential.
SERVICE_CREDENTIAL_ACCESS = (
    "it would get ACCESS on the stack's service credential, which signs in to AzureML as its "
    "identity; name the groups or users who need it"
)


def check_service_credential(
    cluster: ClusterSpec,
    mode: TrackingMode,
    registry: ModelRegistry,
    principal: ServicePrincipal | None,
) -> None:
    """Without servicePrincipal the notebooks sign in with a Unity Catalog service credential:
    refuse a cluster runtime that cannot hand it out."""
    if principal is not None or not needs_azureml_identity(mode, registry):
        return
    check_no_everyone_group(cluster, SERVICE_CREDENTIAL_ACCESS)
    match = _RUNTIME.match(cluster.spark_version)
    version = (int(match["major"]), int(match["minor"])) if match else None
    if version is None or version >= SERVICE_CREDENTIAL_MIN_RUNTIME:
        return
    raise ConfigError(
        "cluster.sparkVersion",
        cluster.spark_version,
        "cannot use the stack's Unity Catalog service credential (exclusive tracking or "
        "modelRegistry azureml without servicePrincipal): it needs Databricks Runtime 16.2 or "
        f"above; set a current runtime such as {DEFAULT_SPARK_VERSION}, or set servicePrincipal "
        "and servicePrincipalSecret",
    )


# --- Unity Catalog models -------------------------------------------------------------------

UNITY_CATALOG_FIELDS = schema.keys(schema.UnityCatalog)
# Automatic enablement gives every new workspace a workspace catalog named after the workspace,
# whose `default` schema all workspace users may USE and CREATE MODEL in (Learn, "Manage
# privileges in Unity Catalog", Workspace catalog privileges; "Get started with Unity Catalog").
DEFAULT_MODEL_SCHEMA = schema.defaults(schema.UnityCatalog)["schema"]
# Unity Catalog names: no '.', ' ', '/' or control characters, at most 255 characters, stored in
# lowercase (Learn, "Names"); lowercase here, so the three-level name MLflow gets is the stored one.
_UC_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]{0,254}")
# Unity Catalog needs Databricks Runtime 11.3 LTS or above (Learn, "Unity Catalog requirements"),
# but the cluster's libraries need more: the notebook pins mlflow>=3.10 (Requires-Python >=3.10,
# mlflow-skinny 3.10.0's wheel metadata; azureml-mlflow 1.62.0.post6: >=3.8,<4.0), and Databricks
# Runtime 12.2 LTS ships Python 3.9, 13.0 the first Python 3.10 (Databricks Runtime release
# notes, "System environment"). So 13.0; 13.3 LTS is the first LTS.
UC_MIN_RUNTIME = (13, 0)
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
            "cannot use Unity Catalog (modelRegistry unity-catalog) with the notebook's MLflow: "
            "it needs Databricks Runtime 13.0 or above (Python 3.10, which mlflow>=3.10 "
            "requires); set a current runtime such as " + DEFAULT_SPARK_VERSION,
        )
