"""Unity Catalog service credentials in the fake Databricks: the credentials API, ACCESS grants on
a credential, and the Azure tokens a credential hands out. Routes of tests/fakecloud/databricks.py.

Rules, each from its public source:
- `POST /api/2.1/unity-catalog/credentials` ("Create a credential", Databricks REST API): `name`
  unique in the metastore (RESOURCE_ALREADY_EXISTS), `purpose` SERVICE or STORAGE; on Azure a
  service credential names an access connector (`azure_managed_identity.access_connector_id`),
  which must exist (the credential is validated unless `skip_validation`); the creator owns it;
  `GET|PATCH|DELETE .../credentials/{name}` answer RESOURCE_DOES_NOT_EXIST for an unknown name;
- `GET|PATCH /api/2.1/unity-catalog/permissions/credential/{name}` ("Get permissions", "Update
  permissions"): `privilege_assignments` and `changes` (add/remove per principal); ACCESS is
  the privilege a service credential takes (Learn, "Manage access to external cloud services
  using service credentials"); only its owner or a workspace admin may change them;
- `POST /api/2.1/unity-catalog/temporary-service-credentials` ("Generate a temporary service
  credential"): needs ACCESS on the credential or its ownership (directly or through a group),
  PERMISSION_DENIED otherwise; answers `azure_aad.aad_token`, a token of the access connector's
  managed identity, and `expiration_time` (ms). The fake's tokens are recorded with the
  identity they stand for (`token_principal`), so the AzureML stand-in can check that identity's
  role (tests/fakecloud/mlflow_routes.py).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakecloud.databricks import Answer, Workspace

API = "/api/2.1/unity-catalog"
PURPOSES = ("SERVICE", "STORAGE")
ISOLATION_MODES = ("ISOLATION_MODE_OPEN", "ISOLATION_MODE_ISOLATED")
CREDENTIAL_PRIVILEGES = {"ACCESS", "CREATE CONNECTION", "MANAGE"}
TOKEN_SECONDS = 3600


def _answer(status: int, body: Any = None) -> Answer:
    from tests.fakecloud.databricks import Answer

    return Answer(status, body)


def _error(status: int, code: str, message: str) -> Answer:
    return _answer(status, {"error_code": code, "message": message})


def _missing(name: str) -> Answer:
    return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Credential '{name}' does not exist.")


class ServiceCredentials:
    """One metastore's credentials: `connector_principal(connector id)` is the connector's
    managed identity's principal id as ARM holds it (None: no such connector)."""

    def __init__(self, connector_principal: Callable[[str], str | None]) -> None:
        self.connector_principal = connector_principal
        self.credentials: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, dict[str, set[str]]] = {}  # credential -> principal -> privileges
        self.token_principal: dict[str, str] = {}  # issued token -> managed identity
        self.issued: list[tuple[str, str]] = []  # (user, credential) for every token issued
        self._lock = threading.Lock()

    def handle(self, ws: Workspace, method: str, path: str, args: dict[str, Any]) -> Answer | None:
        """The answer for a credentials route; None for any other path."""
        with self._lock:
            if path == f"{API}/credentials" and method == "POST":
                return self._create(ws, args)
            if path == f"{API}/temporary-service-credentials" and method == "POST":
                return self._temporary(ws, args)
            match = re.fullmatch(rf"{API}/credentials/([^/]+)", path)
            if match:
                return self._one(ws, method, match.group(1), args)
            match = re.fullmatch(rf"{API}/permissions/credential/([^/]+)", path)
            if match:
                return self._permissions(ws, method, match.group(1), args)
        return None

    def _create(self, ws: Workspace, args: dict[str, Any]) -> Answer:
        name = args.get("name")
        if not isinstance(name, str) or not name:
            return _error(400, "INVALID_PARAMETER_VALUE", "Missing required field: name")
        if args.get("purpose") not in PURPOSES:
            return _error(400, "INVALID_PARAMETER_VALUE", "purpose must be SERVICE or STORAGE")
        if name.lower() in self.credentials:
            return _error(409, "RESOURCE_ALREADY_EXISTS", f"Credential '{name}' already exists.")
        problem = self._connector_problem(args)
        if problem is not None:
            return problem
        mode = args.get("isolation_mode") or "ISOLATION_MODE_OPEN"
        if mode not in ISOLATION_MODES:
            return _error(400, "INVALID_PARAMETER_VALUE", f"isolation_mode {mode} is not valid")
        info = {
            "name": name,
            "full_name": name,
            "id": secrets.token_hex(16),
            "purpose": args["purpose"],
            "azure_managed_identity": {
                **args["azure_managed_identity"],
                "credential_id": secrets.token_hex(8),
            },
            "comment": args.get("comment", ""),
            "isolation_mode": mode,
            "owner": ws.caller,
            "created_by": ws.caller,
            "created_at": int(time.time() * 1000),
        }
        self.credentials[name.lower()] = info
        return _answer(200, dict(info))

    def _connector_problem(self, args: dict[str, Any]) -> Answer | None:
        connector = (args.get("azure_managed_identity") or {}).get("access_connector_id")
        if not connector:
            return _error(
                400, "INVALID_PARAMETER_VALUE", "azure_managed_identity.access_connector_id needed"
            )
        if not args.get("skip_validation") and self.connector_principal(connector) is None:
            return _error(
                400,
                "INVALID_PARAMETER_VALUE",
                f"The access connector {connector} does not exist or has no managed identity.",
            )
        return None

    def _one(self, ws: Workspace, method: str, name: str, args: dict[str, Any]) -> Answer:
        info = self.credentials.get(name.lower())
        if info is None:
            return _missing(name)
        if method == "GET":
            return _answer(200, dict(info))
        if method == "DELETE":
            del self.credentials[name.lower()]
            self.grants.pop(name.lower(), None)
            return _answer(200, {})
        if method == "PATCH":
            for key in ("comment", "isolation_mode", "owner", "azure_managed_identity"):
                if key in args:
                    info[key] = args[key]
            return _answer(200, dict(info))
        return _error(405, "NOT_IMPLEMENTED", f"{method} on a credential")

    def _permissions(self, ws: Workspace, method: str, name: str, args: dict[str, Any]) -> Answer:
        info = self.credentials.get(name.lower())
        if info is None:
            return _missing(name)
        grants = self.grants.setdefault(name.lower(), {})
        if method == "PATCH":
            if ws.caller != info["owner"] and ws.caller not in ws.admins:
                return _error(
                    403, "PERMISSION_DENIED", f"User does not have MANAGE on Credential '{name}'."
                )
            for change in args.get("changes") or []:
                held = grants.setdefault(change["principal"], set())
                wanted = set(change.get("add") or [])
                if wanted - CREDENTIAL_PRIVILEGES:
                    return _error(
                        400,
                        "INVALID_PARAMETER_VALUE",
                        f"Privilege {sorted(wanted - CREDENTIAL_PRIVILEGES)[0]} is not "
                        "applicable to this entity",
                    )
                held |= wanted
                held -= set(change.get("remove") or [])
            for principal in [p for p, held in grants.items() if not held]:
                del grants[principal]
        elif method != "GET":
            return _error(405, "NOT_IMPLEMENTED", f"{method} on permissions")
        assignments = [
            {"principal": principal, "privileges": sorted(held)}
            for principal, held in sorted(grants.items())
        ]
        return _answer(200, {"privilege_assignments": assignments})

    def _temporary(self, ws: Workspace, args: dict[str, Any]) -> Answer:
        name = str(args.get("credential_name") or "")
        info = self.credentials.get(name.lower())
        if info is None or info["purpose"] != "SERVICE":
            return _missing(name)
        names = {ws.caller, *(g for g, members in ws.groups.items() if ws.caller in members)}
        held = self.grants.get(name.lower(), {})
        if info["owner"] not in names and not any("ACCESS" in held.get(n, ()) for n in names):
            return _error(
                403, "PERMISSION_DENIED", f"User does not have ACCESS on Credential '{name}'."
            )
        principal = self.connector_principal(info["azure_managed_identity"]["access_connector_id"])
        if principal is None:
            return _error(400, "INVALID_STATE", f"The access connector of '{name}' is gone.")
        token = f"fake-aad-mi.{principal}.{secrets.token_hex(8)}"
        self.token_principal[token] = principal
        self.issued.append((ws.caller, name))
        expires = int((time.time() + TOKEN_SECONDS) * 1000)
        return _answer(200, {"azure_aad": {"aad_token": token}, "expiration_time": expires})
