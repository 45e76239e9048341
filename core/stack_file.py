"""A stack's config as the Pulumi CLI hands it to the program, read from the project's files.

Project defaults from `Pulumi.yaml`, then `Pulumi.<stack>.yaml`; values become strings (objects
as JSON), unqualified keys belong to the project, and `secure:` values are never decrypted.
The offline preview and the teardown check both read stacks through here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from core.errors import NAMESPACE

SECRET = "[secret]"


def read_stack_config(stack: str, root: Path) -> tuple[dict[str, str], set[str]]:
    """(config, secret keys). Raises FileNotFoundError without a stack file, yaml.YAMLError
    when a file is not YAML."""
    config: dict[str, str] = {}
    project_file = root / "Pulumi.yaml"
    if project_file.is_file():
        project = yaml.safe_load(project_file.read_text()) or {}
        for key, schema in (project.get("config") or {}).items():
            if isinstance(schema, dict) and "default" in schema:
                config[_full_key(key)] = _as_config_string(schema["default"])
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack config file {path.name}")
    secret_keys: set[str] = set()
    for key, value in ((yaml.safe_load(path.read_text()) or {}).get("config") or {}).items():
        key = _full_key(key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET
            secret_keys.add(key)
        else:
            config[key] = _as_config_string(value)
    return config, secret_keys


def _full_key(key: str) -> str:
    return key if ":" in key else f"{NAMESPACE}:{key}"


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
