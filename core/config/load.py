"""The running program's config, read from the Pulumi runtime."""

from __future__ import annotations

from typing import Any

from core.config.placeholders import refuse
from core.config.stack import StackConfig, parse_config


def load_config() -> StackConfig:
    """Read the running program's config and secret keys from the Pulumi runtime."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys.update(k for k in raw if runtime_config.is_config_secret(k))
    config = parse_config(raw, pulumi.get_stack(), secret_keys)
    if not pulumi.runtime.is_dry_run():
        refuse(config)  # the preview warns (tools/preview.py), `pulumi up` refuses
    return config
