"""Who may read what in the fake Databricks workspace: secret-scope ACLs, secret reads, workspace
files read back and their permissions. Routes of tests/fakecloud/databricks.py, which sets
`ws.caller` (the user the request's token signs in as) before each.

Rules, each from the REST API reference (docs.databricks.com/api/azure/workspace) and the
Secrets guide (Databricks, "Secret ACLs"):
- a scope's creator gets MANAGE on it, and workspace admins have MANAGE on every scope;
  MANAGE > WRITE > READ, and a principal's grant counts for the members of a group it names;
- `secrets/acls/put|delete|get|list` need MANAGE (PERMISSION_DENIED otherwise), an existing scope
  (RESOURCE_DOES_NOT_EXIST) and a permission of READ, WRITE or MANAGE (INVALID_PARAMETER_VALUE);
  delete of a principal without a grant is RESOURCE_DOES_NOT_EXIST;
- `secrets/get` ("Get a secret") needs READ: PERMISSION_DENIED (403) otherwise, the value
  base64-encoded; a missing scope or key is RESOURCE_DOES_NOT_EXIST (404);
- `workspace/export` and `workspace/list` ("Export a workspace object", "List contents"): a
  missing path is RESOURCE_DOES_NOT_EXIST; export answers `content` base64-encoded; list answers
  the objects directly under a folder; every object has a numeric `object_id`;
- `permissions/files/{id}` (Permissions API, workspace files): CAN_READ, CAN_RUN, CAN_EDIT or
  CAN_MANAGE, on an existing file. Nothing here refuses reading a file: `/Shared` lets every
  workspace user in by default (Databricks, "Folder ACLs"), where the stack publishes.
"""

from __future__ import annotations

import base64
import copy
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakecloud.databricks import Answer, Workspace

RANKS = {"READ": 1, "WRITE": 2, "MANAGE": 3}
FILE_LEVELS = ("CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE")


def _answer(status: int, body: Any = None) -> Answer:
    from tests.fakecloud.databricks import Answer

    return Answer(status, body)


def _error(status: int, code: str, message: str) -> Answer:
    from tests.fakecloud.databricks import error

    return error(status, code, message)


def object_id(path: str) -> int:
    """A stable numeric id for a workspace object."""
    return zlib.crc32(path.encode()) + 1_000_000


def scope_created(ws: Workspace, scope: str) -> None:
    """The creator of a scope gets MANAGE on it."""
    ws.scope_acls[scope] = {ws.caller: "MANAGE"}


def scope_permission(ws: Workspace, scope: str, user: str) -> int:
    """The caller's strongest grant on `scope` (0: none), as a rank."""
    if user in ws.admins:
        return RANKS["MANAGE"]
    acl = ws.scope_acls.get(scope, {})
    names = {user, *(g for g, members in ws.groups.items() if user in members)}
    return max((RANKS[acl[n]] for n in names if n in acl), default=0)


def _scope_check(ws: Workspace, scope: Any, needed: str) -> Answer | None:
    if scope not in ws.scopes:
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Scope {scope} does not exist!")
    if scope_permission(ws, scope, ws.caller) < RANKS[needed]:
        return _error(
            403,
            "PERMISSION_DENIED",
            f"User {ws.caller} does not have {needed} permission on scope {scope} "
            "to perform this action.",
        )
    return None


def _put_acl(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope, principal, level = args.get("scope"), args.get("principal"), args.get("permission")
    if (refused := _scope_check(ws, scope, "MANAGE")) is not None:
        return refused
    if level not in RANKS or not principal:
        return _error(
            400, "INVALID_PARAMETER_VALUE", f"permission {level!r} is not READ, WRITE or MANAGE"
        )
    ws.scope_acls[scope][principal] = level
    return _answer(200, {})


def _delete_acl(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope, principal = args.get("scope"), args.get("principal")
    if (refused := _scope_check(ws, scope, "MANAGE")) is not None:
        return refused
    if ws.scope_acls[scope].pop(principal, None) is None:
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"No ACL for {principal} on {scope}")
    return _answer(200, {})


def _get_acl(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope, principal = args.get("scope"), args.get("principal")
    if (refused := _scope_check(ws, scope, "MANAGE")) is not None:
        return refused
    level = ws.scope_acls[scope].get(principal)
    if level is None:
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"No ACL for {principal} on {scope}")
    return _answer(200, {"principal": principal, "permission": level})


def _list_acls(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope = args.get("scope")
    if (refused := _scope_check(ws, scope, "MANAGE")) is not None:
        return refused
    items = [{"principal": p, "permission": lv} for p, lv in ws.scope_acls[scope].items()]
    return _answer(200, {"items": items})


def _get_secret(ws: Workspace, args: dict[str, Any]) -> Answer:
    scope, key = args.get("scope"), args.get("key")
    if (refused := _scope_check(ws, scope, "READ")) is not None:
        return refused
    value = ws.secrets.get((scope, key))
    if value is None:
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Secret {key} does not exist in {scope}")
    ws.secret_reads.append((ws.caller, scope, key))
    return _answer(200, {"key": key, "value": base64.b64encode(value.encode()).decode()})


def _export(ws: Workspace, args: dict[str, Any]) -> Answer:
    path = args.get("path", "")
    found = ws.objects.get(path)
    if found is None or found["object_type"] == "DIRECTORY":
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
    content = base64.b64encode(found.get("content") or b"").decode()
    return _answer(200, {"content": content, "file_type": path.rsplit(".", 1)[-1]})


def _list(ws: Workspace, args: dict[str, Any]) -> Answer:
    path = str(args.get("path", "")).rstrip("/") or "/"
    found = ws.objects.get(path)
    if found is None or found["object_type"] != "DIRECTORY":
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
    below = [
        {"path": p, "object_type": o["object_type"], "object_id": object_id(p)}
        for p, o in sorted(ws.objects.items())
        if p != path and p.rsplit("/", 1)[0] == (path if path != "/" else "")
    ]
    return _answer(200, {"objects": below} if below else {})


def file_permissions(ws: Workspace, method: str, file_id: str, body: Any) -> Answer:
    """`/permissions/files/{id}`: the direct grants on a workspace file."""
    paths = [p for p, o in ws.objects.items() if str(object_id(p)) == file_id]
    if not paths or ws.objects[paths[0]]["object_type"] != "FILE":
        return _error(404, "RESOURCE_DOES_NOT_EXIST", f"File {file_id} does not exist")
    acl = (body or {}).get("access_control_list") or []
    bad = [e.get("permission_level") for e in acl if e.get("permission_level") not in FILE_LEVELS]
    if bad:
        return _error(400, "INVALID_PARAMETER_VALUE", f"Permission level {bad[0]} is not valid")
    if method == "PUT":
        ws.file_permissions[paths[0]] = copy.deepcopy(acl)
    elif method != "GET":
        return _error(405, "METHOD_NOT_ALLOWED", method)
    return object_permissions("file", file_id, ws.file_permissions.get(paths[0], []))


def object_permissions(kind: str, object_id: str, acl: list[dict[str, Any]]) -> Answer:
    """What the Permissions API answers for an object (`cluster`, `file`): its path and type,
    and a copy of its direct grants."""
    return _answer(
        200,
        {
            "object_id": f"/{kind}s/{object_id}",
            "object_type": kind,
            "access_control_list": copy.deepcopy(acl),
        },
    )


ROUTES = {
    ("POST", "/secrets/acls/put"): _put_acl,
    ("POST", "/secrets/acls/delete"): _delete_acl,
    ("GET", "/secrets/acls/get"): _get_acl,
    ("GET", "/secrets/acls/list"): _list_acls,
    ("GET", "/secrets/get"): _get_secret,
    ("GET", "/workspace/export"): _export,
    ("GET", "/workspace/list"): _list,
}
