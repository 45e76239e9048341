"""The tag rule: every taggable Azure resource carries `environment` and `managed-by`."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from functools import cache
from typing import Any

from .common import AZURE_NATIVE_PREFIX, MISSING, UNKNOWN, is_set, lookup

REQUIRED_TAGS = ("environment", "managed-by")


@cache
def azure_native_accepts_tags(resource_type: str) -> bool | None:
    """Whether pulumi-azure-native's resource `resource_type` takes `tags`; None if it isn't known.

    The answer comes from the SDK itself (the `<Type>Args` class has a `tags` property) rather than
    from a hand-kept list: a list silently skips every resource type added to the program later,
    while the SDK knows all of them (Subnet, RoleAssignment, PrivateDnsZoneGroup take no tags; a
    VNet, a NAT gateway, a private DNS zone do). The price is that the pack's requirements include
    pulumi-azure-native, in the same major version as the program's.
    """
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != AZURE_NATIVE_PREFIX.rstrip(":"):
        return None
    module_name, type_name = parts[1].replace("/", "."), parts[2]
    try:
        module = importlib.import_module(f"pulumi_azure_native.{module_name}")
    except ImportError:
        return None
    args_class = getattr(module, f"{type_name}Args", None)
    if not inspect.isclass(args_class):
        return None
    return isinstance(inspect.getattr_static(args_class, "tags", None), property)


def is_taggable(resource_type: str, props: Mapping[str, Any]) -> bool:
    """Whether the tag rule applies: an Azure resource whose type accepts tags.

    For a type the installed SDK doesn't know (a newer provider), a resource that declares `tags`
    is plainly taggable; one that doesn't is skipped rather than guessed at.
    """
    if not resource_type.startswith(AZURE_NATIVE_PREFIX):
        return False
    known = azure_native_accepts_tags(resource_type)
    if known is None:
        return lookup(props, "tags") is not MISSING
    return known


def required_tags(props: Mapping[str, Any]) -> list[str]:
    """The resource's tags include `environment` and `managed-by`, each with a value."""
    tags = lookup(props, "tags")
    if tags is UNKNOWN:
        return []
    missing = [key for key in REQUIRED_TAGS if not is_set(lookup(tags, key))]
    if not missing:
        return []
    names = " and ".join(repr(key) for key in missing)
    return [
        f"tags lack {names}; every taggable Azure resource must carry 'environment' (the stack) "
        "and 'managed-by' ('pulumi'), each with a non-empty value"
    ]
