"""A stack's config as the Pulumi CLI hands it to the program, read from the project's files.

Project defaults from `Pulumi.yaml`, then `Pulumi.<stack>.yaml`; values become strings (objects
as JSON), unqualified keys belong to the project, and `secure:` values are never decrypted,
at the top level or nested in an object (`pulumi config set --path --secret`).
The offline preview and the teardown check both read stacks through here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from core.errors import NAMESPACE

SECRET = "[secret]"
PLACEHOLDER_SECRET = "replace-with-"  # what the shipped stack files hold instead of ciphertext


class StackFileError(yaml.YAMLError):
    """A stack file that is not YAML or not shaped as Pulumi's: one line, and none of the file's
    text (a mistyped file may hold a secret in clear)."""


def read_stack_config(stack: str, root: Path) -> tuple[dict[str, str], set[str]]:
    """(config, secret keys). Raises FileNotFoundError without a stack file, yaml.YAMLError
    (StackFileError) when a file is not YAML or not a stack file."""
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
    for key, value in _stack_entries(path).items():
        key = _full_key(key)
        if _has_secure(value):
            config[key] = SECRET if _is_secure(value) else _as_config_string(_hide_secure(value))
            secret_keys.add(key)
        else:
            config[key] = _as_config_string(value)
    return config, secret_keys


def placeholder_secrets(stack: str, root: Path) -> list[str]:
    """Keys whose `secure:` value is a placeholder, not ciphertext (full keys, file order)."""
    found = []
    for key, value in _stack_entries(root / f"Pulumi.{stack}.yaml").items():
        if _is_secure(value) and str(value["secure"]).split(":", 1)[-1].startswith(
            PLACEHOLDER_SECRET
        ):
            found.append(_full_key(key))
    return found


def _stack_entries(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as error:
        where = error.problem_mark or error.context_mark
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        # The problem without its quotes: a tag or alias it quotes is text of the file.
        problem = re.sub(r"'[^']*'|\"[^\"]*\"", "'...'", error.problem or "a syntax error")
        raise StackFileError(f"{path.name} is not valid YAML{line}: {problem}") from None
    except yaml.YAMLError:
        raise StackFileError(f"{path.name} is not valid YAML") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name} is not a mapping with a `config:` section")
    entries = document.get("config") or {}
    if not isinstance(entries, dict):
        raise StackFileError(f"{path.name}: `config:` is not a mapping of keys to values")
    for key in entries:
        if not isinstance(key, str) or not key or key.count(":") > 1 or key.startswith(":"):
            raise StackFileError(
                f"{path.name}: `config:` has a key that is not a config key "
                "(`name` or `namespace:name`)"
            )
    return entries


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _hide_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if "secure" in value:
            return SECRET
        return {k: _hide_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_secure(v) for v in value]
    return value


def _full_key(key: str) -> str:
    return key if ":" in key else f"{NAMESPACE}:{key}"


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)
