"""One tagging mechanism: a stack transform that tags every taggable azure-native resource."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping

import pulumi

AZURE_NATIVE = "azure-native:"


def stack_tags(stack: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Config tags beside the stack's own (`environment`, `managed-by`); config validation
    keeps the two sets of names apart."""
    return {**extra, "environment": stack, "managed-by": "pulumi"}


@functools.cache
def is_taggable(type_token: str) -> bool:
    """True when the azure-native resource type accepts `tags` (read from its SDK class)."""
    if not type_token.startswith(AZURE_NATIVE):
        return False
    _, module, name = type_token.split(":")
    try:
        cls = getattr(
            importlib.import_module(f"pulumi_azure_native.{module.replace('/', '.')}"), name
        )
    except (ImportError, AttributeError):
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters


def tagging_transform(tags: Mapping[str, str]) -> pulumi.ResourceTransform:
    """A transform adding `tags` to every taggable azure-native resource (its own tags kept)."""
    wanted = dict(tags)

    def add_tags(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or not is_taggable(args.type_):
            return None
        own = args.props.get("tags") or {}
        props = {**args.props, "tags": {**own, **wanted}}
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return add_tags


def register_stack_tagging(tags: Mapping[str, str]) -> None:
    """Tag everything declared after this call."""
    pulumi.runtime.register_resource_transform(tagging_transform(tags))
