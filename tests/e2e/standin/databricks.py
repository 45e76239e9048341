"""`pulumi-resource-databricks`: the stand-in for the Databricks provider.

Secret scopes, secrets, secret ACLs, clusters, cluster libraries, workspace folders and files,
and cluster and workspace file permissions through the
Databricks REST API (2.0 and 2.1), as the real provider calls it. The provider's `host` is the
workspace URL that ARM returned; it authenticates as the real provider does with
`azure_workspace_resource_id`: an Azure CLI token for the AzureDatabricks application and the
workspace's ARM id in X-Databricks-Azure-Workspace-Resource-Id. Unity Catalog service
credentials and their grants: databricks_uc.py. With the account console as
`host` and an `accountId`, the account's NCC objects (databricks_account.py).

DATABRICKS_AZUREML_FAKECLOUD_ADDRESS (host:port) plays DNS: every workspace name resolves to
the loopback cloud, and TLS still checks the certificate against the workspace's name.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import quote, urlsplit

from tests.e2e.standin import databricks_account as account
from tests.e2e.standin import databricks_uc as uc
from tests.e2e.standin.provider import HttpAnswer, ProviderError, StandInProvider, https, serve

ADDRESS_ENV = "DATABRICKS_AZUREML_FAKECLOUD_ADDRESS"
AZURE_DATABRICKS_SCOPE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"  # AzureDatabricks app
SCOPE = "databricks:index/secretScope:SecretScope"
SECRET = "databricks:index/secret:Secret"
CLUSTER = "databricks:index/cluster:Cluster"
PERMISSIONS = "databricks:index/permissions:Permissions"
LIBRARY = "databricks:index/library:Library"
DIRECTORY = "databricks:index/directory:Directory"
WORKSPACE_FILE = "databricks:index/workspaceFile:WorkspaceFile"
SECRET_ACL = "databricks:index/secretAcl:SecretAcl"
PRINCIPALS = {"groupName": "group_name", "userName": "user_name"}
PRINCIPALS["servicePrincipalName"] = "service_principal_name"

# SDK input (camelCase) -> REST field, for the cluster fields the program sets.
CLUSTER_FIELDS = {
    "clusterName": "cluster_name",
    "sparkVersion": "spark_version",
    "nodeTypeId": "node_type_id",
    "autoterminationMinutes": "autotermination_minutes",
    "dataSecurityMode": "data_security_mode",
    "singleUserName": "single_user_name",
    "sparkEnvVars": "spark_env_vars",
    "sparkConf": "spark_conf",
    "customTags": "custom_tags",
    "numWorkers": "num_workers",
    "runtimeEngine": "runtime_engine",
}


def cluster_spec(inputs: dict[str, Any]) -> dict[str, Any]:
    spec = {rest: inputs[sdk] for sdk, rest in CLUSTER_FIELDS.items() if sdk in inputs}
    if "autoscale" in inputs:
        scale = inputs["autoscale"]
        spec["autoscale"] = {
            "min_workers": scale.get("minWorkers"), "max_workers": scale.get("maxWorkers")
        }  # fmt: skip
    if "autoscale" not in spec:
        spec.setdefault("num_workers", 0)
    unknown = set(inputs) - set(CLUSTER_FIELDS) - {"autoscale", "libraries", "noWait"}
    if unknown:
        raise ProviderError(f"databricks stand-in: cluster inputs it cannot map: {sorted(unknown)}")
    return spec


def rest_error(answer: HttpAnswer, what: str) -> ProviderError:
    body = answer.body if isinstance(answer.body, dict) else {}
    return ProviderError(
        f"{what}: {answer.status} {body.get('error_code', '')}: {body.get('message', answer.body)}"
    )


class Databricks(StandInProvider):
    name = "databricks"
    package = "pulumi-databricks"

    def __init__(self) -> None:
        super().__init__()
        self._token: str | None = None

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config

    def token(self) -> str:
        if self._token is None:
            from azure.identity import AzureCliCredential

            self._token = AzureCliCredential().get_token(AZURE_DATABRICKS_SCOPE).token
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> HttpAnswer:
        host = str(self.config.get("host") or "")
        if not host:
            raise ProviderError("databricks stand-in: the provider has no host")
        if "://" not in host:
            host = "https://" + host
        address = os.environ.get(ADDRESS_ENV) or urlsplit(host).netloc
        headers = {}
        if self.config.get("azureWorkspaceResourceId"):
            headers["X-Databricks-Azure-Workspace-Resource-Id"] = self.config[
                "azureWorkspaceResourceId"
            ]
        return https(
            method, host.rstrip("/") + path, body=body, token=self.token(), headers=headers,
            connect_to=address,
        )  # fmt: skip

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.api(method, path, body)
        if answer.status >= 400:
            raise rest_error(answer, f"{method} {path}")
        return answer.body

    def replace_keys(self, type_: str) -> tuple[str, ...]:
        if type_ in account.TYPES:
            return account.REPLACE_KEYS[type_]
        if type_ in uc.TYPES:
            return uc.REPLACE_KEYS[type_]
        return {
            SCOPE: ("name", "backendType"),
            SECRET: ("scope", "key"),
            CLUSTER: (),
            PERMISSIONS: ("clusterId", "workspaceFilePath"),
            LIBRARY: ("clusterId", "pypi"),
            DIRECTORY: ("path",),
            WORKSPACE_FILE: ("path",),
            SECRET_ACL: ("scope", "principal"),
        }.get(type_, ())

    # --- create ----------------------------------------------------------------------------

    def create(self, type_: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if type_ in account.TYPES:
            return account.create(self, type_, inputs)
        if type_ in uc.TYPES:
            return uc.create(self, type_, inputs)
        if type_ == SCOPE:
            name = inputs["name"]
            backend = inputs.get("backendType", "DATABRICKS")
            self.call("POST", "/api/2.0/secrets/scopes/create",
                      {"scope": name, "scope_backend_type": backend})  # fmt: skip
            return name, {"name": name, "backendType": backend}
        if type_ == SECRET:
            self.call("POST", "/api/2.0/secrets/put", self._secret_body(inputs))
            return f"{inputs['scope']}|{inputs['key']}", self._secret_outputs(inputs)
        if type_ == CLUSTER:
            created = self.call("POST", "/api/2.1/clusters/create", cluster_spec(inputs))
            cluster_id = created["cluster_id"]
            self._install(cluster_id, inputs.get("libraries") or [])
            return cluster_id, self._cluster_outputs(cluster_id, inputs)
        if type_ == PERMISSIONS:
            return self._put_permissions(inputs)
        if type_ in (DIRECTORY, WORKSPACE_FILE, SECRET_ACL):
            return self._create_workspace_object(type_, inputs)
        if type_ == LIBRARY:
            self._install(
                inputs["clusterId"], [{k: v for k, v in inputs.items() if k != "clusterId"}]
            )
            return f"{inputs['clusterId']}/{uuid_like(inputs)}", dict(inputs)
        raise ProviderError(f"databricks stand-in: no mapping for {type_}")

    def _secret_body(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"scope": inputs["scope"], "key": inputs["key"],
                "string_value": inputs.get("stringValue", "")}  # fmt: skip

    def _secret_outputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "scope": inputs["scope"],
            "key": inputs["key"],
            "configReference": f"{{{{secrets/{inputs['scope']}/{inputs['key']}}}}}",
            "lastUpdatedTimestamp": 0,
        }

    def _install(self, cluster_id: str, libraries: list[dict[str, Any]]) -> None:
        if libraries:
            self.call("POST", "/api/2.0/libraries/install",
                      {"cluster_id": cluster_id, "libraries": libraries})  # fmt: skip

    def _cluster_outputs(self, cluster_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        found = self.call("GET", f"/api/2.1/clusters/get?cluster_id={quote(cluster_id)}")
        host = str(self.config.get("host", "")).rstrip("/")
        return {
            **inputs,
            "clusterId": cluster_id,
            "state": found.get("state", ""),
            "url": f"{host}/#setting/clusters/{cluster_id}/configuration",
            "defaultTags": {"ClusterId": cluster_id, "ClusterName": inputs.get("clusterName", "")},
        }

    def _put_permissions(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        acl = []
        for control in inputs.get("accessControls") or []:
            entry = {rest: control[sdk] for sdk, rest in PRINCIPALS.items() if sdk in control}
            entry["permission_level"] = control.get("permissionLevel")
            acl.append(entry)
        if inputs.get("workspaceFilePath"):
            # by path: the provider looks the file's object id up first (workspace/get-status)
            file_id = self._object_id(inputs["workspaceFilePath"])
            self.call("PUT", f"/api/2.0/permissions/files/{file_id}",
                      {"access_control_list": acl})  # fmt: skip
            return f"/files/{file_id}", {**inputs, "objectType": "file"}
        cluster_id = inputs.get("clusterId")
        if not cluster_id:
            raise ProviderError("databricks stand-in: cluster and file permissions only")
        self.call("PUT", f"/api/2.0/permissions/clusters/{quote(cluster_id)}",
                  {"access_control_list": acl})  # fmt: skip
        return f"/clusters/{cluster_id}", {**inputs, "objectType": "cluster"}

    def _object_id(self, path: str) -> int:
        found = self.call("GET", f"/api/2.0/workspace/get-status?path={quote(path)}")
        return int(found["object_id"])

    def _create_workspace_object(
        self, type_: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """A folder (workspace/mkdirs), a file (workspace/import, AUTO: not a notebook without
        the notebook header) or a scope ACL (secrets/acls/put), as the provider writes them."""
        if type_ == SECRET_ACL:
            self.call("POST", "/api/2.0/secrets/acls/put", {
                "scope": inputs["scope"], "principal": inputs["principal"],
                "permission": inputs["permission"],
            })  # fmt: skip
            return f"{inputs['scope']}|||{inputs['principal']}", dict(inputs)
        path = inputs["path"]
        if type_ == DIRECTORY:
            self.call("POST", "/api/2.0/workspace/mkdirs", {"path": path})
        else:
            self.call("POST", "/api/2.0/workspace/import", {
                "path": path, "format": "AUTO", "overwrite": True,
                "content": inputs.get("contentBase64", ""),
            })  # fmt: skip
        host = str(self.config.get("host", "")).rstrip("/")
        extra = {"workspacePath": f"/Workspace{path}", "url": f"{host}/#workspace{path}"}
        return path, {**inputs, "objectId": self._object_id(path), **extra}

    # --- read, update, delete --------------------------------------------------------------

    def read(self, type_: str, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        if type_ in account.TYPES:
            return account.read(self, type_, id_, state)
        if type_ in uc.TYPES:
            return uc.read(self, type_, id_, state)
        if type_ == CLUSTER:
            answer = self.api("GET", f"/api/2.1/clusters/get?cluster_id={quote(id_)}")
            return None if answer.status >= 400 else state
        if type_ == SCOPE:
            scopes = self.call("GET", "/api/2.0/secrets/scopes/list").get("scopes") or []
            return state if any(s["name"] == id_ for s in scopes) else None
        if type_ == SECRET:
            scope, key = id_.split("|", 1)
            answer = self.api("GET", f"/api/2.0/secrets/list?scope={quote(scope)}")
            keys = (answer.body or {}).get("secrets") or [] if answer.status == 200 else []
            return state if any(s["key"] == key for s in keys) else None
        if type_ in (DIRECTORY, WORKSPACE_FILE):
            answer = self.api("GET", f"/api/2.0/workspace/get-status?path={quote(id_)}")
            return None if answer.status >= 400 else state
        return state

    def update(
        self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> dict[str, Any]:
        if type_ in account.TYPES:
            return account.update(self, type_, news)
        if type_ in uc.TYPES:
            return uc.update(self, type_, id_, news)
        if type_ == CLUSTER:
            self.call("POST", "/api/2.1/clusters/edit", {"cluster_id": id_, **cluster_spec(news)})
            added = [
                lib
                for lib in news.get("libraries") or []
                if lib not in (olds.get("libraries") or [])
            ]
            self._install(id_, added)
            return self._cluster_outputs(id_, news)
        if type_ == SECRET:
            self.call("POST", "/api/2.0/secrets/put", self._secret_body(news))
            return self._secret_outputs(news)
        if type_ == PERMISSIONS:
            return self._put_permissions(news)[1]
        if type_ in (WORKSPACE_FILE, SECRET_ACL):  # import with overwrite; acls/put replaces
            return self._create_workspace_object(type_, news)[1]
        return news

    def delete(self, type_: str, id_: str, state: dict[str, Any]) -> None:
        if type_ in account.TYPES:
            return account.delete(self, type_, id_)
        if type_ in uc.TYPES:
            answer = uc.delete(self, type_, id_)
            if answer is None:
                return
        elif type_ == CLUSTER:
            answer = self.api("POST", "/api/2.1/clusters/permanent-delete", {"cluster_id": id_})
        elif type_ == SCOPE:
            answer = self.api("POST", "/api/2.0/secrets/scopes/delete", {"scope": id_})
        elif type_ == SECRET:
            scope, key = id_.split("|", 1)
            answer = self.api("POST", "/api/2.0/secrets/delete", {"scope": scope, "key": key})
        elif type_ == PERMISSIONS:
            kind, object_id = id_.strip("/").split("/", 1)
            answer = self.api("PUT", f"/api/2.0/permissions/{kind}/{quote(object_id)}",
                              {"access_control_list": []})  # fmt: skip
        elif type_ in (DIRECTORY, WORKSPACE_FILE):
            recursive = bool(state.get("deleteRecursive"))
            answer = self.api("POST", "/api/2.0/workspace/delete",
                              {"path": id_, "recursive": recursive})  # fmt: skip
        elif type_ == SECRET_ACL:
            scope, principal = id_.split("|||", 1)
            answer = self.api("POST", "/api/2.0/secrets/acls/delete",
                              {"scope": scope, "principal": principal})  # fmt: skip
        else:
            return
        # Gone already (or its workspace is): nothing left to delete.
        if answer.status >= 400 and answer.status not in (400, 404):
            raise rest_error(answer, f"deleting {id_}")


def uuid_like(inputs: dict[str, Any]) -> str:
    """A stable id suffix for a library: the same inputs, the same id."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]


if __name__ == "__main__":
    serve(Databricks())
