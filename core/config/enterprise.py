"""Enterprise controls: tags, diagnostics, team access, budget, workspace storage firewall."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import core.config.schema as schema
from core.config.enums import BudgetThresholdType, PrincipalType
from core.config.readers import (
    _GUID,
    _object,
    _reject_unknown,
    _section,
    arm_id,
    read_fields,
)
from core.errors import NAMESPACE, ConfigError, secret_like

STACK_TAG_KEYS = ("environment", "managed-by")
_TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")
# Storage accounts take at most 15 tags, names up to 128 characters (storage spec,
# StorageAccountCreateParameters.tags); the strictest tagged resource sets the limits.
MAX_TAGS = 15
MAX_TAG_NAME = 128
MAX_TAG_VALUE = 256


def _tags(ours: Mapping[str, Any]) -> Mapping[str, str]:
    given = _object(ours, "tags") or {}
    if len(given) + len(STACK_TAG_KEYS) > MAX_TAGS:
        raise ConfigError(
            "tags",
            f"{len(given)} tags",
            f"are too many: Azure storage accounts take at most {MAX_TAGS} tags, and the stack "
            f"adds {len(STACK_TAG_KEYS)} ({', '.join(STACK_TAG_KEYS)}); "
            f"allowed: {MAX_TAGS - len(STACK_TAG_KEYS)}",
        )
    for name, value in given.items():
        key = f"tags.{name}"
        if secret_like(key):
            raise ConfigError(
                key,
                value,
                "has a name that says it holds a secret: tags are readable by anyone who can read "
                "the resource, and are shown by the preview; keep secrets in the key vault",
            )
        if name.lower() in STACK_TAG_KEYS:
            raise ConfigError(
                key, value, f"is set by the stack itself ({', '.join(STACK_TAG_KEYS)})"
            )
        if not 1 <= len(name) <= MAX_TAG_NAME or _TAG_NAME_FORBIDDEN.search(name):
            raise ConfigError(
                key,
                value,
                f"has a tag name Azure rejects (1-{MAX_TAG_NAME} characters, none of <>%&\\?/)",
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
            raise ConfigError(key, value, f"is not a string of at most {MAX_TAG_VALUE} characters")
    return MappingProxyType(dict(given))


# --- enterprise controls: diagnostics, team access, budget, workspace storage firewall -------

_LOG_ANALYTICS_ID = arm_id("Microsoft.OperationalInsights/workspaces")
ACCESS_FIELDS = schema.keys(schema.Access)
PRINCIPAL_FIELDS = schema.keys(schema.Principal)
BUDGET_FIELDS = schema.keys(schema.Budget)
THRESHOLD_FIELDS = schema.keys(schema.Threshold)
# Consumption Budget notifications: threshold 0..1000 percent, at most five per budget, at most
# 50 contact e-mails (azure-rest-api-specs consumption 2023-11-01, Notification).
MAX_BUDGET_NOTIFICATIONS = schema.limit(schema.Budget, "thresholds", "max_length")
MAX_BUDGET_THRESHOLD = schema.limit(schema.Threshold, "percent", "le")
MAX_CONTACT_EMAILS = schema.limit(schema.Budget, "contactEmails", "max_length")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Principal:
    object_id: str  # lowercase GUID
    type: PrincipalType


class DiagnosticsSpec(schema.Diagnostics):
    """Diagnostic settings: the schema's `diagnostics` fields, read and checked."""


@dataclass(frozen=True)
class AccessSpec:
    data_scientists: tuple[Principal, ...] = ()  # AzureML Data Scientist + blob reader
    readers: tuple[Principal, ...] = ()  # Reader on the resource group


@dataclass(frozen=True)
class BudgetThreshold:
    percent: float
    type: BudgetThresholdType


DEFAULT_BUDGET_THRESHOLDS = (
    BudgetThreshold(80, BudgetThresholdType.ACTUAL),
    BudgetThreshold(100, BudgetThresholdType.ACTUAL),
    BudgetThreshold(100, BudgetThresholdType.FORECASTED),
)


@dataclass(frozen=True)
class BudgetSpec:
    amount: float  # per month, in the billing currency
    contact_emails: tuple[str, ...]
    thresholds: tuple[BudgetThreshold, ...] = DEFAULT_BUDGET_THRESHOLDS


def check_no_secret_tags(secret_keys: Set[str]) -> None:
    """A `secure:` value under `tags` would be deployed as a plain tag, readable by anyone who
    can read the resource; refused with the value hidden (the key is secret)."""
    key = f"{NAMESPACE}:tags"
    if key in secret_keys:
        raise ConfigError(
            "tags",
            "(secret)",
            "holds a `secure:` value: Azure stores tags in plain text, readable by anyone who "
            "can read the resource; set tags without --secret and keep secrets in the key vault",
        )


def _diagnostics(ours: Mapping[str, Any]) -> DiagnosticsSpec:
    values = read_fields(schema.Diagnostics, _object(ours, "diagnostics") or {}, "diagnostics.")
    workspace_id = values["workspace_id"]
    if workspace_id is not None and (
        not isinstance(workspace_id, str) or not _LOG_ANALYTICS_ID.fullmatch(workspace_id)
    ):
        raise ConfigError(
            "diagnostics.workspaceId",
            workspace_id,
            "is not a Log Analytics workspace id (/subscriptions/<id>/resourceGroups/<group>/"
            "providers/Microsoft.OperationalInsights/workspaces/<name>)",
        )
    return DiagnosticsSpec.model_construct(**values)


def _access(ours: Mapping[str, Any]) -> AccessSpec:
    given = _section(ours, "access", ACCESS_FIELDS) or {}
    return AccessSpec(
        data_scientists=_principals("access.dataScientists", given.get("dataScientists")),
        readers=_principals("access.readers", given.get("readers")),
    )


def read_principal_type(key: str, kind: Any) -> PrincipalType:
    """A principal's `type`: User, Group or ServicePrincipal (the state bootstrap reads it too)."""
    try:
        return PrincipalType(kind)
    except ValueError:
        allowed = ", ".join(t.value for t in PrincipalType)
        raise ConfigError(key, kind, f"is not allowed; allowed: {allowed}") from None


def _from_json(given: Any) -> Any:
    """A value the CLI may hand over as a JSON string, parsed; any other value as it is."""
    if isinstance(given, str):
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(given)
    return given


def _entries(
    key: str, value: list[Any], fields: tuple[str, ...], what: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each entry of a list of objects, with its path (`key[i]`); an entry that is not an object
    or names a field not in `fields` is refused."""
    for index, entry in enumerate(value):
        path = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(path, entry, f"is not an object with {what}")
        _reject_unknown(f"{path}.", entry, fields)
        yield path, entry


def _principals(key: str, given: Any) -> tuple[Principal, ...]:
    """A list of {objectId, type} (as the state bootstrap's `principals`); [] when unset."""
    value = _from_json(given)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            key, given, "is not a list of {objectId, type} with type Group, ServicePrincipal "
            "or User",
        )  # fmt: skip
    found: list[Principal] = []
    for path, entry in _entries(key, value, PRINCIPAL_FIELDS, "objectId and type"):
        object_id = entry.get("objectId")
        if not isinstance(object_id, str) or not _GUID.fullmatch(object_id):
            raise ConfigError(
                f"{path}.objectId",
                object_id,
                "is not a GUID: the principal's object id (az ad group show --query id)",
            )
        principal_type = read_principal_type(f"{path}.type", entry.get("type"))
        if any(p.object_id == object_id.lower() for p in found):
            raise ConfigError(f"{path}.objectId", object_id, "is listed twice")
        found.append(Principal(object_id.lower(), principal_type))
    return tuple(found)


def _budget(ours: Mapping[str, Any]) -> BudgetSpec | None:
    given = _section(ours, "budget", BUDGET_FIELDS)
    if given is None:
        return None
    amount = given.get("amount")
    if isinstance(amount, str):
        with contextlib.suppress(ValueError):
            amount = float(amount)
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not amount > 0:
        what = "is required" if amount is None else "is not a positive number"
        raise ConfigError(
            "budget.amount", amount, f"{what}: the monthly amount in the billing currency"
        )
    emails = _from_json(given.get("contactEmails"))
    if (
        not isinstance(emails, list)
        or not 1 <= len(emails) <= MAX_CONTACT_EMAILS
        or not all(isinstance(e, str) and _EMAIL.fullmatch(e) for e in emails)
    ):
        raise ConfigError(
            "budget.contactEmails",
            emails,
            f"is not a list of 1 to {MAX_CONTACT_EMAILS} e-mail addresses (who gets the alerts)",
        )
    thresholds = (
        _thresholds(given["thresholds"])
        if given.get("thresholds") is not None
        else DEFAULT_BUDGET_THRESHOLDS
    )
    return BudgetSpec(float(amount), tuple(dict.fromkeys(emails)), thresholds)


def _thresholds(given: Any) -> tuple[BudgetThreshold, ...]:
    value = _from_json(given)
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BUDGET_NOTIFICATIONS:
        raise ConfigError(
            "budget.thresholds",
            given,
            f"is not a list of 1 to {MAX_BUDGET_NOTIFICATIONS} {{percent, type}} (a budget "
            "takes at most five notifications)",
        )
    found: list[BudgetThreshold] = []
    for path, entry in _entries("budget.thresholds", value, THRESHOLD_FIELDS, "percent and type"):
        percent = entry.get("percent")
        if (
            isinstance(percent, bool)
            or not isinstance(percent, int | float)
            or not 0 < percent <= MAX_BUDGET_THRESHOLD
        ):
            raise ConfigError(
                f"{path}.percent", percent, f"is not a percentage above 0, at most "
                f"{MAX_BUDGET_THRESHOLD}",
            )  # fmt: skip
        try:
            kind = BudgetThresholdType(entry.get("type", BudgetThresholdType.ACTUAL.value))
        except ValueError:
            allowed = ", ".join(t.value for t in BudgetThresholdType)
            raise ConfigError(
                f"{path}.type", entry.get("type"), f"is not allowed; allowed: {allowed}"
            ) from None
        threshold = BudgetThreshold(percent, kind)
        if threshold in found:
            raise ConfigError(path, json.dumps(entry), "is listed twice")
        found.append(threshold)
    return tuple(found)


def _storage_firewall(given: bool | None, private: bool) -> bool:
    """The Databricks workspace storage firewall (`given`: as read, None when unset): on by
    default only with private endpoints, which the firewalled account needs for the clusters
    to reach it (blob and dfs)."""
    on = private if given is None else given
    if on and not private:
        raise ConfigError(
            "databricksStorageFirewall",
            True,
            "needs privateLink true or databricksPrivateLink backend/full: the firewalled "
            "workspace storage is reached through blob and dfs private endpoints in the "
            "endpoint subnet",
        )
    return on
