"""Name resolution for the fake cloud: every `*.azuredatabricks.net` workspace name (and every
storage account's `*.dfs|blob.core.windows.net` endpoint) resolves to the loopback cloud's
address (host:port), the port included, so a client that connects to
`https://adb-<id>.<n>.azuredatabricks.net` reaches the fake and still checks its certificate
against the workspace's name. Other names resolve as usual.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

DATABRICKS_DOMAIN = ".azuredatabricks.net"
# Storage accounts' Data Lake and Blob endpoints: Unity Catalog model versions live there.
LOOPBACK_DOMAINS = (DATABRICKS_DOMAIN, ".dfs.core.windows.net", ".blob.core.windows.net")


def loopback_resolver(
    address: str, real: Callable[..., Any] = socket.getaddrinfo
) -> Callable[..., Any]:
    """A getaddrinfo that sends workspace names to `address` (host:port)."""
    host, port = address.rsplit(":", 1)

    def getaddrinfo(name: Any, service: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(name, bytes):
            name = name.decode()
        if isinstance(name, str) and name.lower().rstrip(".").endswith(LOOPBACK_DOMAINS):
            return real(host, int(port), *args, **kwargs)
        return real(name, service, *args, **kwargs)

    return getaddrinfo


def install(address: str) -> None:
    """Resolve workspace names to `address` in this process."""
    socket.getaddrinfo = loopback_resolver(address)
