"""`databricksAccount`: the Databricks account, for serverless compute's network connectivity
configuration (components/serverless_connectivity.py).

Serverless compute does not run in the stack's VNet; an NCC (an account-level object) gives it
private endpoints of its own (Learn, "Configure private connectivity to Azure resources").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import core.config.schema as schema
from core.config.readers import _object, _reject_unknown
from core.errors import ConfigError

ACCOUNT_FIELDS = schema.keys(schema.DatabricksAccount)
ACCOUNT_DEFAULTS = schema.defaults(schema.DatabricksAccount)
# The account id is a UUID (Databricks, "Locate your account ID").
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class DatabricksAccountSpec:
    account_id: str
    host: str  # https://accounts.azuredatabricks.net, or a sovereign cloud's console


def _databricks_account(ours: Mapping[str, Any]) -> DatabricksAccountSpec | None:
    given = _object(ours, "databricksAccount")
    if given is None:
        return None
    _reject_unknown("databricksAccount.", given, ACCOUNT_FIELDS)
    account_id = given.get("accountId")
    if not isinstance(account_id, str) or not _UUID.fullmatch(account_id.strip().lower()):
        raise ConfigError(
            "databricksAccount.accountId",
            account_id,
            "is not a Databricks account id: a UUID such as "
            "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d, from the account console's user menu",
        )
    host = given.get("host", ACCOUNT_DEFAULTS["host"])
    parts = urlsplit(host) if isinstance(host, str) else None
    plain = parts is not None and parts.path in ("", "/") and not parts.query
    if parts is None or parts.scheme != "https" or not parts.hostname or not plain:
        raise ConfigError(
            "databricksAccount.host",
            host,
            "is not an https URL with no path, such as https://accounts.azuredatabricks.net",
        )
    return DatabricksAccountSpec(account_id.strip().lower(), host.rstrip("/"))
