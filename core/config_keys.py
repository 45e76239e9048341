"""Keys outside what the program reads that would otherwise be ignored without a word.

Pulumi hands the program every key of the stack, in every namespace. A typo'd namespace
(`databricks-azure-ml:privateLink`) or provider key (`azure-native:locaton`) would leave the
stack on its defaults (a public stack instead of a private one), and a key set without `--path`
(`databricks-azureml:cluster.maxWorkers`) arrives as a flat name. Each is refused here with what
was probably meant. Values of such keys are never shown (core/errors.py).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import NAMESPACE, ConfigError

AZURE_NATIVE = "azure-native"
OWNED = (NAMESPACE, AZURE_NATIVE)
# Namespaces of other Pulumi providers that our program does not read: setting one is a mistake
# about which provider deploys the stack (the classic `azure` provider's `azure:location`).
FOREIGN = {"azure": AZURE_NATIVE, "azurerm": AZURE_NATIVE, "azuread": AZURE_NATIVE}
# The azure-native provider's config keys, used when its package does not carry its config
# module (pulumi-azure-native 3.x, pulumi_azure_native/config/vars.py).
AZURE_NATIVE_KEYS = (
    "auxiliaryTenantIds",
    "clientCertificatePassword",
    "clientCertificatePath",
    "clientId",
    "clientSecret",
    "disableInstanceDiscovery",
    "disablePulumiPartnerId",
    "environment",
    "location",
    "metadataHost",
    "msiEndpoint",
    "oidcRequestToken",
    "oidcRequestUrl",
    "oidcToken",
    "oidcTokenFilePath",
    "partnerId",
    "subscriptionId",
    "tenantId",
    "useDefaultAzureCredential",
    "useMsi",
    "useOidc",
)
_SIMILAR = 0.8  # difflib ratio above which a namespace is taken for a typo of ours


def check_keys(
    raw: Mapping[str, Any],
    known: tuple[str, ...],
    sections: Mapping[str, tuple[str, ...] | None],
) -> None:
    """Refuse near-miss namespaces, unknown azure-native keys and our keys set without --path.

    `known`: the project's top-level keys; `sections`: object keys and their fields (None: any).
    """
    for full in raw:
        namespace, _, name = full.partition(":")
        if namespace == NAMESPACE:
            _check_flat_key(full, name, raw[full], known, sections)
        elif namespace == AZURE_NATIVE:
            _check_provider_key(full, name, raw[full])
        else:
            _check_namespace(full, namespace, name, raw[full])


def _check_namespace(full: str, namespace: str, name: str, value: Any) -> None:
    meant = FOREIGN.get(namespace.lower()) or _near_miss(namespace)
    if meant is None:
        return
    raise ConfigError(
        full,
        value,
        f"is in namespace {namespace!r}, which this program does not read; did you mean "
        f"{meant}:{name}? (pulumi config rm {full}; pulumi config set {meant}:{name} ...)",
        known=False,
    )


def _near_miss(namespace: str) -> str | None:
    """Ours or azure-native, when `namespace` differs from it by a case, a separator or a
    letter or two (`databricks_azureml`, `Databricks-AzureML`, `azure-nativ`)."""
    for owned in OWNED:
        if difflib.SequenceMatcher(None, namespace.lower(), owned).ratio() >= _SIMILAR:
            return owned
    return None


def _check_provider_key(full: str, name: str, value: Any) -> None:
    keys = azure_native_keys()
    if name in keys:
        return
    close = difflib.get_close_matches(name, keys, n=1)
    hint = f"; did you mean {AZURE_NATIVE}:{close[0]}?" if close else ""
    raise ConfigError(
        full,
        value,
        f"is not a key the {AZURE_NATIVE} provider takes; its keys: {', '.join(keys)}{hint}",
        known=False,
    )


def _check_flat_key(
    full: str,
    name: str,
    value: Any,
    known: tuple[str, ...],
    sections: Mapping[str, tuple[str, ...] | None],
) -> None:
    if "." not in name or name in known:
        return
    section, _, field = name.partition(".")
    if section not in sections:
        return  # an unknown key: reported with the known keys by the caller
    fields = sections[section]
    hint = ""
    if fields is not None and field not in fields:
        close = difflib.get_close_matches(field, fields, n=1)
        hint = f" ({section} has no {field!r}" + (f"; did you mean {close[0]}?)" if close else ")")
    raise ConfigError(
        full,
        value,
        f"is a flat key named like a path{hint}; set it with `--path`: pulumi config rm {full}; "
        f"pulumi config set --path {NAMESPACE}:{section}.{field if not hint else '<field>'} "
        "<value>",
        known=False,
    )


@functools.cache
def azure_native_keys() -> tuple[str, ...]:
    """The provider's config keys, read from its installed package's config module."""
    spec = importlib.util.find_spec(AZURE_NATIVE.replace("-", "_"))
    if spec is None or spec.origin is None:
        return AZURE_NATIVE_KEYS
    module = Path(spec.origin).parent / "config" / "vars.py"
    if not module.is_file():
        return AZURE_NATIVE_KEYS
    found = re.findall(r"__config__\.get\w*\('(\w+)'\)", module.read_text())
    return tuple(sorted(set(found))) or AZURE_NATIVE_KEYS
