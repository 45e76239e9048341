"""The one error type bad config raises."""

from __future__ import annotations

from typing import Any

NAMESPACE = "databricks-azureml"


class ConfigError(Exception):
    """A rejected config value: names the key, the value given and what is allowed."""

    def __init__(self, key: str, value: Any, problem: str) -> None:
        self.key = key if ":" in key else f"{NAMESPACE}:{key}"
        self.value = value
        self.problem = problem
        shown = "(not set)" if value is None else _show(value)
        super().__init__(f"{self.key}: {shown} {problem}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value if value and value.strip() == value else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
