"""Where the fake cloud's MLflow URIs lead: loopback `mlflow server`s stand in for the stores.

A route maps a store URI the stack hands out (an AzureML workspace's
`azureml://<region>.api.azureml.ms/mlflow/v1.0/subscriptions/.../workspaces/<name>`, or
`databricks` for the workspace's own tracking) to the http URI of a loopback server.
`install(routes)` registers MLflow store builders for those schemes, in place of the
azureml-mlflow plugin's and MLflow's Databricks ones, so code that sets the stack's URIs (the
notebook, `make smoke`) talks to the loopback servers unchanged. A URI with no route fails at
once, naming it, as a workspace that does not exist does on Azure (404), instead of reaching
for the network.

Between processes the routes travel as JSON in DATABRICKS_AZUREML_FAKE_MLFLOW_ROUTES
(`install_from_env()`). A request to an AzureML URI for which a credential was registered with
the plugin (a Unity Catalog service credential: mlflow_setup/service_credential.py) carries that
credential's token, as the plugin's store sends it, and is refused unless its identity holds a
role on the workspace (tests/fakecloud/azureml_auth.py).

For `azureml://` registries the builder keeps what the plugin's registry store adds to MLflow's
(azureml-mlflow, azureml/mlflow/_store/model_registry/model_registry.py, `create_model_version`):
a `file://` source (no run id) is a local MLflow model folder, refused without an MLmodel,
uploaded to the workspace's artifact store (`LocalUpload/<container>/<folder name>`) and
registered from there. Here that store is the loopback server's artifact root.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

ROUTES_ENV = "DATABRICKS_AZUREML_FAKE_MLFLOW_ROUTES"


def scheme_of(uri: str) -> str:
    return uri.split(":", 1)[0].lower()


def _same_store(uri: str) -> str:
    """An AzureML URI in the form the plugin registers credentials under for MLflow 2 and 3
    (`get_mlflow_tracking_uri_v2` turns `/mlflow/v1.0` into `/mlflow/v2.0`): one store."""
    return uri.rstrip("/").lower().replace("/mlflow/v2.0/", "/mlflow/v1.0/")


def target(routes: Mapping[str, str], store_uri: str) -> str:
    """The loopback server for `store_uri`, or an MlflowException naming it."""
    from mlflow.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

    wanted = _same_store(store_uri)
    for uri, server in routes.items():
        if _same_store(uri) == wanted:
            return server
    raise MlflowException(
        f"{store_uri}: no such MLflow store in the fake cloud (it has {sorted(routes)})",
        error_code=RESOURCE_DOES_NOT_EXIST,
    )


UPLOADS = "/api/2.0/mlflow-artifacts/artifacts/LocalUpload"  # where the plugin's uploads land


def upload_local_model(source: str, server: str) -> str:
    """The azureml-mlflow plugin's handling of a `file://` model version source, against the
    loopback `server`: the uploaded folder's URI, or the plugin's ValueError."""
    from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository

    folder = Path(source.removeprefix("file://"))
    if not (folder / "MLmodel").is_file():
        raise ValueError(
            "Model source must be a directory containing an mlflow MLmodel, as is produced "
            "by an mlflow save_model function."
        )
    container = f"{datetime.now():%y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    uploaded = f"{server.rstrip('/')}{UPLOADS}/{container}/{folder.name}"
    HttpArtifactRepository(uploaded).log_artifacts(str(folder))
    return uploaded


def signed_token(store_uri: str) -> str | None:
    """The token azureml-mlflow would sign a request to `store_uri` with, when a credential was
    registered for it (azureml/mlflow/_store/azureml_reststore.py `get_host_creds`: the service
    context's `auth.get_token(<cloud's default scope>)`); None without one."""
    if scheme_of(store_uri) != "azureml":
        return None
    from azureml.mlflow._internal.service_context_loader import _AzureMLServiceContextLoader

    if not _AzureMLServiceContextLoader.has_service_context(store_uri):
        return None
    context = _AzureMLServiceContextLoader.get_service_context(store_uri)
    return str(context.auth.get_token(context.cloud._get_default_scope()).token)


def authorize(holders: Mapping[str, list[str]], store_uri: str) -> str | None:
    """The request's token, refused as AzureML refuses an identity without a role on the
    workspace (tests/fakecloud/azureml_auth.py)."""
    from mlflow.exceptions import PERMISSION_DENIED, MlflowException

    from tests.fakecloud.azureml_auth import refusal

    token = signed_token(store_uri)
    if token is None:
        return None
    allowed = next((p for u, p in holders.items() if _same_store(u) == _same_store(store_uri)), [])
    workspace = "/subscriptions/" + store_uri.split("/subscriptions/", 1)[-1].split("?")[0]
    refused = refusal(token, workspace, allowed)
    if refused is not None:
        raise MlflowException(refused, error_code=PERMISSION_DENIED)
    return token


def install(
    routes: Mapping[str, str], holders: Mapping[str, list[str]] | None = None
) -> Callable[[], None]:
    """Register tracking and registry store builders for every scheme in `routes`; returns
    what puts the previous builders back. `holders`: each AzureML tracking URI's principals
    with a role there, checked for requests signed with a registered credential."""
    from mlflow.store.model_registry.rest_store import RestStore as RegistryRestStore
    from mlflow.store.tracking.rest_store import RestStore
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils
    from mlflow.utils.rest_utils import MlflowHostCreds

    routes, roles = dict(routes), dict(holders or {})

    def creds(store_uri: str) -> MlflowHostCreds:
        server = target(routes, store_uri)
        return MlflowHostCreds(server, token=authorize(roles, store_uri))

    def tracking(store_uri: str, **_: Any) -> RestStore:
        target(routes, store_uri)  # fail now, not at the first call
        return RestStore(partial(creds, store_uri))

    class AzureMLRegistryStore(RegistryRestStore):
        def __init__(self, store_uri: str) -> None:
            super().__init__(partial(creds, store_uri))
            self.server = target(routes, store_uri)

        def create_model_version(
            self, name: str, source: str, run_id: str | None = None, *args: Any, **kwargs: Any
        ) -> Any:
            # With a run id, a file:// source is that run's artifact folder on a server that
            # lets clients write artifacts themselves: AzureML's azureml:// run artifacts here.
            if source.startswith("file://") and run_id is None:
                source = upload_local_model(source, self.server)
            return super().create_model_version(name, source, run_id, *args, **kwargs)

    def registry(store_uri: str, **_: Any) -> RegistryRestStore:
        target(routes, store_uri)
        if scheme_of(store_uri) == "azureml":
            return AzureMLRegistryStore(store_uri)
        return RegistryRestStore(partial(creds, store_uri))

    registries = (tracking_utils._tracking_store_registry, registry_utils._get_store_registry())
    before = [dict(r._registry) for r in registries]
    for scheme in {scheme_of(uri) for uri in routes}:
        registries[0].register(scheme, tracking)
        registries[1].register(scheme, registry)

    def forget() -> None:
        for store_registry in registries:
            store_registry._get_store_with_resolved_uri.cache_clear()

    def restore() -> None:
        for store_registry, builders in zip(registries, before, strict=True):
            store_registry._registry.clear()
            store_registry._registry.update(builders)
        forget()

    forget()
    return restore


def install_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """`install` the routes in DATABRICKS_AZUREML_FAKE_MLFLOW_ROUTES; False when unset."""
    from tests.fakecloud.azureml_auth import ROLES_ENV

    text = environ.get(ROUTES_ENV)
    if not text:
        return False
    install(json.loads(text), json.loads(environ.get(ROLES_ENV) or "{}"))
    return True
