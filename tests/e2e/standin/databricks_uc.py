"""The Databricks stand-in's Unity Catalog service credential and its grants, through the
workspace's Unity Catalog API as the real provider calls it (terraform-provider-databricks
`databricks_credential`: the Go SDK's Credentials API, `/api/2.1/unity-catalog/credentials`;
`databricks_grants`: the Grants API, `/api/2.1/unity-catalog/permissions/credential/{name}`).

`databricks_grants` is authoritative for the securable: it reads the grants and sends the
changes that leave exactly the declared ones; its delete removes them all.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from tests.e2e.standin.provider import HttpAnswer, ProviderError

CREDENTIAL = "databricks:index/credential:Credential"
GRANTS = "databricks:index/grants:Grants"
TYPES = (CREDENTIAL, GRANTS)
REPLACE_KEYS = {CREDENTIAL: ("name", "purpose"), GRANTS: ("credential",)}
API = "/api/2.1/unity-catalog"


class Workspace(Protocol):
    def call(self, method: str, path: str, body: Any = None) -> Any: ...

    def api(self, method: str, path: str, body: Any = None) -> HttpAnswer: ...


def create(ws: Workspace, type_: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if type_ == CREDENTIAL:
        identity = inputs.get("azureManagedIdentity") or {}
        created = ws.call("POST", f"{API}/credentials", {
            "name": inputs["name"], "purpose": inputs["purpose"],
            "azure_managed_identity": {"access_connector_id": identity.get("accessConnectorId")},
            "comment": inputs.get("comment", ""),
            "isolation_mode": inputs.get("isolationMode"),
            "skip_validation": bool(inputs.get("skipValidation")),
        })  # fmt: skip
        return created["name"], _credential_outputs(inputs, created)
    return _grants(ws, inputs)


def _credential_outputs(inputs: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    identity = found.get("azure_managed_identity") or {}
    return {
        **inputs,
        "azureManagedIdentity": {
            "accessConnectorId": identity.get("access_connector_id"),
            "credentialId": identity.get("credential_id", ""),
        },
        "credentialId": found.get("id", ""),
        "databricksCredentialId": found["name"],
        "fullName": found.get("full_name", found["name"]),
        "owner": found.get("owner", ""),
        "isolationMode": found.get("isolation_mode", ""),
    }


def _permissions_path(credential: str) -> str:
    return f"{API}/permissions/credential/{quote(credential)}"


def _grants(ws: Workspace, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    credential = inputs.get("credential")
    if not credential:
        raise ProviderError("databricks stand-in: grants on a credential only")
    wanted = {g["principal"]: set(g.get("privileges") or []) for g in inputs.get("grants") or []}
    _set_grants(ws, credential, wanted)
    return f"credential/{credential}", dict(inputs)


def _set_grants(ws: Workspace, credential: str, wanted: dict[str, set[str]]) -> None:
    path = _permissions_path(credential)
    held = {
        a["principal"]: set(a.get("privileges") or [])
        for a in ws.call("GET", path).get("privilege_assignments") or []
    }
    changes = []
    for principal in sorted({*held, *wanted}):
        add = sorted(wanted.get(principal, set()) - held.get(principal, set()))
        remove = sorted(held.get(principal, set()) - wanted.get(principal, set()))
        if add or remove:
            changes.append({"principal": principal, "add": add, "remove": remove})
    if changes:
        ws.call("PATCH", path, {"changes": changes})


def read(ws: Workspace, type_: str, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
    if type_ == CREDENTIAL:
        answer = ws.api("GET", f"{API}/credentials/{quote(id_)}")
        return None if answer.status >= 400 else state
    return state


def update(ws: Workspace, type_: str, id_: str, news: dict[str, Any]) -> dict[str, Any]:
    if type_ == CREDENTIAL:
        found = ws.call("PATCH", f"{API}/credentials/{quote(id_)}", {
            "comment": news.get("comment", ""), "isolation_mode": news.get("isolationMode"),
        })  # fmt: skip
        return _credential_outputs(news, found)
    return _grants(ws, news)[1]


def delete(ws: Workspace, type_: str, id_: str) -> HttpAnswer | None:
    if type_ == CREDENTIAL:
        return ws.api("DELETE", f"{API}/credentials/{quote(id_)}?force=true")
    credential = id_.removeprefix("credential/")
    if ws.api("GET", f"{API}/credentials/{quote(credential)}").status >= 400:
        return None  # the credential is gone, and its grants with it
    _set_grants(ws, credential, {})
    return None
