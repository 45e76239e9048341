"""The Unity Catalog model registry of a workspace, as MLflow's `databricks-uc` store calls it.

MLflow 3.15's UcModelRegistryStore (mlflow/store/_unity_catalog/registry/rest_store.py) calls
`/api/2.0/mlflow/unity-catalog/...` on the workspace host; the requests and answers here are its
protos (mlflow/protos/databricks_uc_registry_messages.proto). What Unity Catalog enforces, each
from its source:

- three-level names `<catalog>.<schema>.<model>`: a shorter one is INVALID_PARAMETER_VALUE
  saying "specify all three levels" (the text MLflow's store looks for to add its legacy hint);
- the catalog and schema exist: the workspace catalog, named by ARM's `defaultCatalog`
  `initialName` (else after the workspace), with its `default` schema (Learn, "Get started with
  Unity Catalog": automatic enablement creates the workspace catalog);
- privileges (Learn, "Manage privileges in Unity Catalog"): registering a model needs
  USE CATALOG on the catalog, USE SCHEMA and CREATE MODEL on the schema; reading a model needs
  USE CATALOG and USE SCHEMA (and EXECUTE, which its owner has). The workspace catalog's default
  grants ("Workspace catalog privileges"): every workspace user (`users`) has USE CATALOG, and
  USE SCHEMA and CREATE MODEL on `default`. A missing one is PERMISSION_DENIED naming it;
- a model version's files go to its storage location, written with a temporary credential
  (GenerateTemporaryModelVersionCredentials: on Azure a user delegation SAS for an `abfss://`
  path, served by tests/fakecloud/adls.py), PENDING_REGISTRATION until finalized, then READY;
- model versions are searched by `name = '...'` or `run_id = '...'` only (the store's
  search_model_versions; Databricks, "Manage model lifecycle in Unity Catalog");
- signatures: MLflow checks them itself before it calls create (the store's
  _validate_model_signature), so nothing here repeats it.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakecloud.adls import FakeAdls, location

API = "/api/2.0/mlflow/unity-catalog"
ALL_USERS = "users"  # the workspace users group
STORAGE_CONTAINER = "unity-catalog-storage"
WORKSPACE_CATALOG_GRANTS = {
    "catalog": {"USE CATALOG"},
    "default": {"USE SCHEMA", "CREATE MODEL", "CREATE TABLE", "CREATE FUNCTION", "CREATE VOLUME"},
}
_FILTER = re.compile(r"^\s*(name|run_id)\s*=\s*'([^']*)'\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class UcAnswer:
    status: int
    body: dict[str, Any]


def uc_error(status: int, code: str, message: str) -> UcAnswer:
    return UcAnswer(status, {"error_code": code, "message": message})


@dataclass
class Metastore:
    """One workspace's view: catalogs and their schemas, grants, models and versions."""

    storage_account: str
    schemas: set[str] = field(default_factory=set)  # "<catalog>.<schema>"
    catalogs: set[str] = field(default_factory=set)
    # securable ("<catalog>" or "<catalog>.<schema>") -> principal -> privileges
    grants: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add_catalog(self, catalog: str, *schemas: str) -> None:
        self.catalogs.add(catalog)
        self.schemas.update(f"{catalog}.{schema}" for schema in schemas)

    def grant(self, securable: str, principal: str, *privileges: str) -> None:
        self.grants.setdefault(securable, {}).setdefault(principal, set()).update(privileges)

    def revoke(self, securable: str, principal: str, *privileges: str) -> None:
        self.grants.get(securable, {}).get(principal, set()).difference_update(privileges)

    def has(self, user: str, securable: str, privilege: str) -> bool:
        held = self.grants.get(securable, {})
        return privilege in held.get(user, set()) | held.get(ALL_USERS, set())


class UnityCatalog:
    """The registry of every workspace; `metastore(host)` builds one on first use from what
    `workspace(host)` (the workspace's ARM properties) says."""

    def __init__(self, workspace: Callable[[str], dict[str, Any] | None], adls: FakeAdls) -> None:
        self._workspace = workspace
        self.adls = adls
        self.metastores: dict[str, Metastore] = {}
        self._lock = threading.RLock()

    def metastore(self, host: str) -> Metastore:
        with self._lock:
            if host not in self.metastores:
                props = self._workspace(host) or {}
                account = ((props.get("parameters") or {}).get("storageAccountName") or {}).get(
                    "value"
                ) or "dbstorage0000000000000"
                store = Metastore(storage_account=account)
                catalog = workspace_catalog(props)
                store.add_catalog(catalog, "default")
                store.grant(catalog, ALL_USERS, *WORKSPACE_CATALOG_GRANTS["catalog"])
                store.grant(f"{catalog}.default", ALL_USERS, *WORKSPACE_CATALOG_GRANTS["default"])
                self.metastores[host] = store
            return self.metastores[host]

    def handle(
        self, method: str, host: str, path: str, args: dict[str, Any], user: str
    ) -> UcAnswer:
        route = _ROUTES.get((method, path.removeprefix(API)))
        if route is None:
            return uc_error(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        with self._lock:
            return route(self, self.metastore(host), args, user)

    # --- registered models ------------------------------------------------------------------

    def _create_model(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        name = str(args.get("name") or "")
        refused = _check_name(store, name) or _need(store, user, name, "CREATE MODEL")
        if refused:
            return refused
        if name in store.models:
            return uc_error(
                400, "RESOURCE_ALREADY_EXISTS", f"Registered model '{name}' already exists."
            )
        now = _now()
        store.models[name] = {"name": name, "creation_timestamp": now,
                              "last_updated_timestamp": now, "user_id": user}  # fmt: skip
        store.versions[name] = []
        return UcAnswer(200, {"registered_model": dict(store.models[name])})

    def _get_model(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        name = str(args.get("name") or "")
        refused = _check_name(store, name) or _need(store, user, name, None)
        if refused:
            return refused
        if name not in store.models:
            return _no_model(name)
        return UcAnswer(200, {"registered_model": dict(store.models[name])})

    def _search_models(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        found = [
            dict(model)
            for name, model in sorted(store.models.items())
            if _need(store, user, name, None) is None
        ]
        return UcAnswer(200, {"registered_models": found})

    # --- model versions ---------------------------------------------------------------------

    def _create_version(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        name = str(args.get("name") or "")
        refused = _check_name(store, name) or _need(store, user, name, "CREATE MODEL")
        if refused:
            return refused
        if name not in store.models:
            return _no_model(name)
        versions = store.versions[name]
        now = _now()
        number = str(len(versions) + 1)
        metastore_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, store.storage_account))
        version = {
            "name": name,
            "version": number,
            "creation_timestamp": now,
            "last_updated_timestamp": now,
            "user_id": user,
            "source": str(args.get("source") or ""),
            "run_id": str(args.get("run_id") or ""),
            "status": "PENDING_REGISTRATION",
            # a managed location under the metastore's storage (Learn, "Specify a managed
            # storage location in Unity Catalog")
            "storage_location": location(
                store.storage_account, STORAGE_CONTAINER, metastore_id, "models",
                str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "versions", str(uuid.uuid4()),
            ),
        }  # fmt: skip
        if args.get("run_tracking_server_id"):
            version["run_tracking_server_id"] = str(args["run_tracking_server_id"])
        versions.append(version)
        return UcAnswer(200, {"model_version": dict(version)})

    def _version(self, store: Metastore, args: dict[str, Any], user: str) -> Any:
        name, number = str(args.get("name") or ""), str(args.get("version") or "")
        refused = _check_name(store, name) or _need(store, user, name, None)
        if refused:
            return refused
        for version in store.versions.get(name, []):
            if version["version"] == number:
                return version
        return uc_error(
            404, "RESOURCE_DOES_NOT_EXIST", f"Model version {number} of '{name}' does not exist."
        )

    def _get_version(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        found = self._version(store, args, user)
        return (
            found if isinstance(found, UcAnswer) else UcAnswer(200, {"model_version": dict(found)})
        )

    def _download_uri(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        found = self._version(store, args, user)
        if isinstance(found, UcAnswer):
            return found
        return UcAnswer(200, {"artifact_uri": found["storage_location"]})

    def _finalize_version(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        found = self._version(store, args, user)
        if isinstance(found, UcAnswer):
            return found
        found["status"] = "READY"
        found["last_updated_timestamp"] = _now()
        return UcAnswer(200, {"model_version": dict(found)})

    def _credentials(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        found = self._version(store, args, user)
        if isinstance(found, UcAnswer):
            return found
        writing = "WRITE" in str(args.get("operation") or "")
        if writing and found["status"] != "PENDING_REGISTRATION":
            return uc_error(
                400, "INVALID_STATE", f"Model version {found['version']} is already finalized."
            )
        sas = self.adls.issue(found["storage_location"], "racwl" if writing else "rl")
        credentials = {
            "azure_user_delegation_sas": {"sas_token": sas},
            "expiration_time": _now() + 3_600_000,
            "storage_mode": "CUSTOMER_HOSTED",
        }
        return UcAnswer(200, {"credentials": credentials})

    def _search_versions(self, store: Metastore, args: dict[str, Any], user: str) -> UcAnswer:
        match = _FILTER.match(str(args.get("filter") or ""))
        if match is None:
            return uc_error(
                400,
                "INVALID_PARAMETER_VALUE",
                "Model version search requires a filter on name = '...' or run_id = '...'",
            )
        key, value = match.group(1).lower(), match.group(2)
        found = []
        for name, versions in sorted(store.versions.items()):
            if _need(store, user, name, None) is not None:
                continue
            found += [dict(v) for v in versions if v.get(key) == value]
        if key == "name" and not found:
            refused = _check_name(store, value) or _need(store, user, value, None)
            if refused:
                return refused
        return UcAnswer(200, {"model_versions": found})

    def _sdk_repository(self, _store: Metastore, _args: dict[str, Any], _user: str) -> UcAnswer:
        # The storage client is MLflow's own, with the temporary credential (not databricks-sdk).
        return UcAnswer(200, {"is_databricks_sdk_models_artifact_repository_enabled": False})


def workspace_catalog(props: dict[str, Any]) -> str:
    """The workspace catalog's name: ARM's `defaultCatalog.initialName` ("If not specified, the
    name of the workspace will be used"), lowercased as Unity Catalog stores names."""
    pinned = (props.get("defaultCatalog") or {}).get("initialName")
    if pinned:
        return str(pinned).lower()
    url = str(props.get("workspaceUrl") or "workspace")
    return url.split(".", 1)[0].replace("-", "_").lower()


def _now() -> int:
    return int(time.time() * 1000)


def _no_model(name: str) -> UcAnswer:
    return uc_error(404, "RESOURCE_DOES_NOT_EXIST", f"Registered model '{name}' does not exist.")


def _check_name(store: Metastore, name: str) -> UcAnswer | None:
    parts = name.split(".")
    if len(parts) != 3 or not all(parts):
        return uc_error(
            400,
            "INVALID_PARAMETER_VALUE",
            f"Model name '{name}' is not a valid name. Please specify all three levels "
            "(<catalog>.<schema>.<model>).",
        )
    catalog, schema, _ = parts
    if catalog not in store.catalogs:
        return uc_error(404, "NOT_FOUND", f"Catalog '{catalog}' does not exist.")
    if f"{catalog}.{schema}" not in store.schemas:
        return uc_error(404, "NOT_FOUND", f"Schema '{catalog}.{schema}' does not exist.")
    return None


def _need(store: Metastore, user: str, name: str, privilege: str | None) -> UcAnswer | None:
    catalog, schema, _ = name.split(".")
    needed = [("USE CATALOG", "Catalog", catalog), ("USE SCHEMA", "Schema", f"{catalog}.{schema}")]
    if privilege is not None:
        needed.append((privilege, "Schema", f"{catalog}.{schema}"))
    for wanted, kind, securable in needed:
        if not store.has(user, securable, wanted):
            return uc_error(
                403,
                "PERMISSION_DENIED",
                f"User does not have {wanted} on {kind} '{securable}'.",
            )
    return None


_Route = Callable[[UnityCatalog, Metastore, dict[str, Any], str], UcAnswer]
_ROUTES: dict[tuple[str, str], _Route] = {
    ("POST", "/registered-models/create"): UnityCatalog._create_model,
    ("GET", "/registered-models/get"): UnityCatalog._get_model,
    ("GET", "/registered-models/search"): UnityCatalog._search_models,
    ("POST", "/model-versions/create"): UnityCatalog._create_version,
    ("GET", "/model-versions/get"): UnityCatalog._get_version,
    ("POST", "/model-versions/finalize"): UnityCatalog._finalize_version,
    ("GET", "/model-versions/get-download-uri"): UnityCatalog._download_uri,
    ("GET", "/model-versions/search"): UnityCatalog._search_versions,
    ("POST", "/model-versions/generate-temporary-credentials"): UnityCatalog._credentials,
    (
        "GET",
        "/registered-models:is-databricks-sdk-models-artifact-repository-enabled",
    ): UnityCatalog._sdk_repository,
}
