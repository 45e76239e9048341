"""Azure Data Lake Storage Gen2 on loopback: the storage behind Unity Catalog model versions.

MLflow's `databricks-uc` store writes a model version's files with the temporary credential
Unity Catalog hands out (an `azure_user_delegation_sas` for an `abfss://` location,
mlflow/utils/_unity_catalog_utils.py) through azure-storage-file-datalake, and reads them back
the same way (mlflow/store/artifact/azure_data_lake_artifact_repo.py). The SDK speaks the DFS
endpoint (`<account>.dfs.core.windows.net`) for create, append, flush and list, and the Blob
endpoint (`<account>.blob.core.windows.net`) for downloads. What this stand-in serves and
refuses, from the Data Lake Storage Gen2 REST API (Learn, "Path - Create", "Path - Update",
"Path - List", and the Blob service's "Get Blob"):

- a request without a SAS that Unity Catalog issued, outside the path the SAS was issued for,
  or after it expired, is 403 AuthenticationFailed / AuthorizationPermissionMismatch ("Create a
  user delegation SAS": the signed resource and permissions bound what a SAS may do);
- writes need the `w` (write) or `c` (create) permission, reads and lists `r` / `l`;
- append at a position other than the file's uncommitted length is 400 InvalidFlushPosition,
  and only flushed data is read back ("Path - Update": data is appended, then flushed).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import posixpath
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakecloud.arm import Reply

DFS_DOMAIN = ".dfs.core.windows.net"
BLOB_DOMAIN = ".blob.core.windows.net"
SAS_SECONDS = 3600  # Unity Catalog's temporary credentials last about an hour


@dataclass(frozen=True)
class Grant:
    """A SAS: the account, container and path prefix it covers, its permissions, its end."""

    account: str
    container: str
    prefix: str
    permissions: str
    expires: float


@dataclass
class File:
    committed: bytes = b""
    pending: bytes = b""
    modified: float = field(default_factory=time.time)

    @property
    def etag(self) -> str:
        return '"0x' + hashlib.sha256(self.committed).hexdigest()[:16].upper() + '"'


def error(status: int, code: str, message: str) -> Reply:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return Reply(status, body, {"Content-Type": "application/json", "x-ms-error-code": code})


class FakeAdls:
    """Files per (account, container, path); SAS tokens that `issue` handed out."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str, str], File] = {}
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, location: str, permissions: str = "racwdl") -> str:
        """A SAS token (without the leading '?') for everything under `location`
        (`abfss://<container>@<account>.dfs.core.windows.net/<path>`)."""
        parts = urlsplit(location)
        container, _, host = parts.netloc.partition("@")
        signature = secrets.token_urlsafe(24)
        grant = Grant(
            host.split(".", 1)[0],
            container,
            parts.path.strip("/"),
            permissions,
            time.time() + SAS_SECONDS,
        )
        with self._lock:
            self._grants[signature] = grant
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(grant.expires))
        return f"sv=2023-11-03&sr=d&sp={permissions}&se={expiry}&sig={signature}"

    def handle(
        self, method: str, host: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> Reply:
        account = host.split(".", 1)[0].lower()
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        container, _, path = unquote(url.path).lstrip("/").partition("/")
        path = path.strip("/")
        listing = query.get("resource") == "filesystem"
        if listing:
            path = query.get("directory", "").strip("/")
        need = "r" if method in ("GET", "HEAD") else "w"
        if listing:
            need = "l"
        refused = self._authorize(query, account, container, path, need)
        if refused is not None:
            return refused
        with self._lock:
            if listing:
                return self._list(account, container, path, query.get("recursive") == "true")
            key = (account, container, path)
            if method == "PUT" and query.get("resource") in ("file", "directory"):
                if query["resource"] == "file":
                    self.files[key] = File()
                return Reply(201, b"", self._file_headers(self.files.get(key) or File()))
            if method == "PATCH":
                return self._update(key, query, raw)
            if method in ("GET", "HEAD"):
                return self._read(key, headers)
        return error(400, "UnsupportedHttpVerb", f"{method} {url.path} is not served here")

    def _authorize(
        self, query: dict[str, str], account: str, container: str, path: str, need: str
    ) -> Reply | None:
        grant = self._grants.get(query.get("sig", ""))
        if grant is None:
            return error(403, "AuthenticationFailed", "Signature did not match: no such SAS")
        if grant.expires < time.time():
            return error(403, "AuthenticationFailed", "Signed expiry time has passed")
        inside = path == grant.prefix or path.startswith(grant.prefix + "/")
        if (account, container) != (grant.account, grant.container) or not inside:
            return error(
                403,
                "AuthorizationPermissionMismatch",
                f"This SAS covers {grant.container}/{grant.prefix}, not {container}/{path}",
            )
        if need == "w" and not {"w", "c"} & set(grant.permissions):
            return error(403, "AuthorizationPermissionMismatch", "The SAS does not allow writes")
        if need not in grant.permissions and need != "w":
            return error(403, "AuthorizationPermissionMismatch", f"The SAS lacks '{need}'")
        return None

    def _update(self, key: tuple[str, str, str], query: dict[str, str], raw: bytes) -> Reply:
        found = self.files.get(key)
        if found is None:
            return error(404, "PathNotFound", "The specified path does not exist.")
        position = int(query.get("position", "0"))
        if query.get("action") == "append":
            if position != len(found.committed) + len(found.pending):
                return error(400, "InvalidFlushPosition", "The position is not the file's length")
            found.pending += raw
            if query.get("flush") == "true":
                found.committed, found.pending = found.committed + found.pending, b""
            return Reply(202, b"", {"Content-Length": "0"})
        if query.get("action") == "flush":
            if position != len(found.committed) + len(found.pending):
                return error(400, "InvalidFlushPosition", "The position is not the file's length")
            found.committed, found.pending = found.committed + found.pending, b""
            found.modified = time.time()
            return Reply(200, b"", self._file_headers(found))
        return error(400, "InvalidQueryParameterValue", f"action {query.get('action')!r}")

    def _read(self, key: tuple[str, str, str], headers: dict[str, str]) -> Reply:
        found = self.files.get(key)
        if found is None:
            return error(404, "BlobNotFound", "The specified blob does not exist.")
        data = found.committed
        answer = {**self._file_headers(found), "x-ms-blob-type": "BlockBlob"}
        wanted = headers.get("x-ms-range") or headers.get("range") or ""
        if wanted.startswith("bytes="):
            start_text, _, end_text = wanted[len("bytes=") :].partition("-")
            start = int(start_text or 0)
            end = min(int(end_text) if end_text else len(data) - 1, len(data) - 1)
            chunk = data[start : end + 1]
            answer["Content-Range"] = f"bytes {start}-{max(end, start)}/{len(data)}"
            if not data:
                return Reply(416, b"", answer)
            return Reply(206, chunk, {**answer, "Content-Type": "application/octet-stream"})
        return Reply(200, data, {**answer, "Content-Type": "application/octet-stream"})

    def _list(self, account: str, container: str, directory: str, recursive: bool) -> Reply:
        prefix = f"{directory}/" if directory else ""
        names: dict[str, File | None] = {}
        for (acc, cont, path), found in self.files.items():
            if (acc, cont) != (account, container) or not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if recursive:
                parts = rest.split("/")
                for depth in range(1, len(parts)):
                    names.setdefault(prefix + "/".join(parts[:depth]), None)
                names[path] = found
            elif "/" in rest:
                names.setdefault(prefix + rest.split("/", 1)[0], None)
            else:
                names[path] = found
        if (
            not names
            and directory
            and not any(
                (acc, cont) == (account, container) and path == directory
                for acc, cont, path in self.files
            )
        ):
            return error(404, "PathNotFound", "The specified path does not exist.")
        paths = [_path_entry(name, found) for name, found in sorted(names.items())]
        return Reply(
            200, json.dumps({"paths": paths}).encode(), {"Content-Type": "application/json"}
        )

    @staticmethod
    def _file_headers(found: File) -> dict[str, str]:
        return {
            "ETag": found.etag,
            "Last-Modified": email.utils.formatdate(found.modified, usegmt=True),
            "x-ms-version": "2023-11-03",
        }


def _path_entry(name: str, found: File | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "lastModified": email.utils.formatdate(usegmt=True)}
    if found is None:
        entry["isDirectory"] = "true"
        entry["contentLength"] = "0"
    else:
        entry["contentLength"] = str(len(found.committed))
        entry["etag"] = found.etag
    return entry


def is_storage_host(host: str) -> bool:
    host = host.split(":", 1)[0].lower()
    return host.endswith(DFS_DOMAIN) or host.endswith(BLOB_DOMAIN)


def location(account: str, container: str, *path: str) -> str:
    return f"abfss://{container}@{account}{DFS_DOMAIN}/" + posixpath.join(*path)
