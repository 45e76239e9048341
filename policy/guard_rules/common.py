"""What every rule module shares: type tokens, `lookup` with its MISSING / UNKNOWN markers, small
value helpers, and the shapes stack rules see (`Declared`, `StackViolation`).

Unknown values: during `pulumi preview` an input computed from another resource's output (the VNet
id, a secret scope's name) is unknown. The engine hands those to policies as proxies that raise
`UnknownValueError` on access (or, from plain dicts, as the engine's sentinel strings). `lookup`
turns both into `UNKNOWN`. A rule that only needs a property to be *set* accepts `UNKNOWN` (it is
set, its value comes later); a rule that needs a *value* skips it: resource policies run again in
`pulumi up` with every input resolved, and stack policies then see the real outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import proxy
from pulumi_policy.proxy import UnknownValueError

# Type tokens, as declared by `@pulumi.type_token` in the SDKs
# (pulumi-azure-native 3.29, pulumi-databricks 1.118).
DATABRICKS_WORKSPACE = "azure-native:databricks:Workspace"
AML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
ONLINE_ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
KEY_VAULT = "azure-native:keyvault:Vault"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DATABRICKS_CLUSTER = "databricks:index/cluster:Cluster"
AZURE_NATIVE_PREFIX = "azure-native:"

_UNKNOWN_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
    }
)


class _Marker:
    def __init__(self, label: str) -> None:
        self._label = label

    def __repr__(self) -> str:
        return self._label


MISSING = _Marker("MISSING")
"""The property is absent or null."""
UNKNOWN = _Marker("UNKNOWN")
"""The property is set, but its value is only known after the resources it depends on exist."""


def lookup(props: Any, *path: str | int) -> Any:
    """The value at `path` in `props`, or MISSING / UNKNOWN.

    Works on plain dicts and lists and on the policy engine's unknown-checking proxies; never raises
    for an absent or unknown value.
    """
    current = props
    for key in path:
        if isinstance(key, int):
            if not isinstance(current, Sequence) or isinstance(current, str):
                return MISSING
            if not 0 <= key < len(current):
                return MISSING
        elif not isinstance(current, Mapping):
            return MISSING
        try:
            current = current[key]
        except KeyError:
            return MISSING
        except UnknownValueError:
            return UNKNOWN
        if current is None:
            return MISSING
        if isinstance(current, str) and current in _UNKNOWN_SENTINELS:
            return UNKNOWN
    return current


def elements(props: Any, *path: str) -> list[Any]:
    """The elements of the list at `path` (each possibly UNKNOWN); [] when absent or unknown."""
    value = lookup(props, *path)
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [lookup(value, index) for index in range(len(value))]


def keys_in(mapping: Any) -> list[str]:
    # Iterating a proxy yields its keys without touching (possibly unknown) values.
    return list(mapping) if isinstance(mapping, Mapping) else []


def is_set(value: Any) -> bool:
    if value is MISSING:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def describe(value: Any) -> str:
    return "not set" if value is MISSING else repr(value)


def flag_is(
    props: Mapping[str, Any],
    path: tuple[str, ...],
    wanted: bool,
    *,
    why: str = "",
    if_unset: str = "",
) -> list[str]:
    """The boolean at `path` is `wanted` (an unknown one passes: `up` checks it again); else
    one message: the path, its value (and `if_unset` when not set), what is expected, `why`."""
    value = lookup(props, *path)
    if value is UNKNOWN or value is wanted:
        return []
    unset = f" ({if_unset})" if value is MISSING and if_unset else ""
    return [f"{'.'.join(path)} is {describe(value)}{unset}; expected {str(wanted).lower()}{why}"]


def known_strings(props: Mapping[str, Any], *keys: str) -> set[str]:
    return {value for key in keys if isinstance(value := lookup(props, key), str)}


def is_disabled(value: Any) -> bool:
    return isinstance(value, str) and value.lower() == "disabled"


@dataclass(frozen=True)
class Declared:
    """One resource of the stack, as a stack rule sees it."""

    resource_type: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    urn: str = ""
    dependencies: tuple[str, ...] = ()  # urns of the resources it depends on, when the engine says
    protect: bool = False  # the resource option, as the engine reports it


@dataclass(frozen=True)
class StackViolation:
    message: str
    urn: str | None = None
