"""The one error type bad config raises, and the one place its values are rendered.

A message names the key, what kind of value was given and what is allowed. The value itself is
shown only when it cannot be a secret: never for an unknown key (a typo'd
`servicePrincipalSecrte` holds a secret too), a key whose name sounds secret, a key stored
`secure:`, or text that may carry other keys' values (objects, lists of objects, malformed JSON).
Messages land in CI logs, so this holds for every ConfigError, not for a few call sites.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

NAMESPACE = "databricks-azureml"

# Words that make a key secret-like, matched against the key's words (camelCase, '.', '-', '_'
# split) and, for the longer ones, anywhere in the key (`clientsecret`, `dbpassword`).
SECRET_WORDS = frozenset(
    {"key", "keys", "pwd", "pat", "sas", "pem", "pfx", "cert", "creds", "signature", "sig"}
)
SECRET_FRAGMENTS = ("secret", "passw", "passphrase", "token", "credential", "apikey", "private")
# A key word this close to one of these (difflib's ratio) is a misspelling of it
# (`servicePrincipalSecrte`): secret-like too.
MISSPELT = ("secret", "password", "passphrase", "token", "credential", "apikey")
MISSPELLING_RATIO = 0.8
# Keys whose names contain a fragment above but hold no secret.
NOT_SECRET = frozenset({"privateLink", "databricksPrivateLink", "keySize"})  # keySize: an RSA size

_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_hidden_keys: ContextVar[frozenset[str]] = ContextVar("hidden_keys", default=frozenset())
# The namespace of keys given without one: the state bootstrap reads its own with the same readers.
_namespace: ContextVar[str] = ContextVar("namespace", default=NAMESPACE)


class ConfigError(Exception):
    """A rejected config value: names the key, the kind of value given and what is allowed.

    `known=False` marks a key the program does not take: its value is never shown.
    """

    def __init__(self, key: str, value: Any, problem: str, *, known: bool = True) -> None:
        self.key = full_key(key)
        self.problem = problem
        self.known = known
        shown, shows_value = _render(self.key, value, known)
        # The value is kept only when the message shows it, so no log of the error leaks it.
        self.value = value if shows_value else None
        super().__init__(_one_line(f"{self.key}: {shown} {problem}"))


def full_key(key: str) -> str:
    return key if ":" in key else f"{_namespace.get()}:{key}"


@contextlib.contextmanager
def config_namespace(namespace: str) -> Iterator[None]:
    """Within the block, keys without a namespace are in `namespace`."""
    token = _namespace.set(namespace)
    try:
        yield
    finally:
        _namespace.reset(token)


@contextlib.contextmanager
def hidden_keys(keys: Iterable[str]) -> Iterator[None]:
    """Within the block, values of these keys (and everything under them) are never shown:
    the keys the stack stores `secure:`."""
    token = _hidden_keys.set(frozenset(full_key(k) for k in keys))
    try:
        yield
    finally:
        _hidden_keys.reset(token)


def secret_like(key: str) -> bool:
    """Whether a key's name says it holds a secret (any part of a dotted path)."""
    name = key.split(":", 1)[-1]
    for part in name.split("."):
        if part in NOT_SECRET:
            continue
        lowered = part.lower()
        if any(fragment in lowered for fragment in SECRET_FRAGMENTS):
            return True
        words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", part).lower())
        if SECRET_WORDS.intersection(words):
            return True
        if any(difflib.get_close_matches(w, MISSPELT, 1, MISSPELLING_RATIO) for w in words):
            return True
    return False


def _is_hidden(key: str) -> bool:
    return any(key == h or key.startswith(f"{h}.") for h in _hidden_keys.get())


def _secret_key(key: str) -> bool:
    return secret_like(key) or _is_hidden(key)


def render_value(key: str, value: Any, *, known: bool = True) -> str:
    """How a message shows `value` of `key`: the value when it is safe to, else its kind."""
    return _render(key, value, known)[0]


def _render(key: str, value: Any, known: bool) -> tuple[str, bool]:
    """(the text, whether it shows the value itself)."""
    if value is None:
        return "(not set)", False
    if not known:
        return f"({_kind(value)}, not shown)", False
    if _secret_key(key):
        return f"({_kind(value)}, value hidden)", False
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return "(a string that is not valid JSON, value not shown)", False
    if isinstance(value, Mapping):
        return f"(an object with keys {', '.join(map(str, value)) or '(none)'})", False
    if isinstance(value, list | tuple):
        if all(_scalar(item) for item in value):
            return json.dumps(list(value), default=str), True
        return f"(a list of {len(value)} items, not all of them names or numbers)", False
    if not _scalar(value):
        return f"({_kind(value)}, not shown)", False
    return _plain(value), True


def _scalar(value: Any) -> bool:
    """Text, numbers and typed single values (a CIDR), not text or containers of many."""
    if isinstance(value, str):
        return value.lstrip()[:1] not in ("{", "[")
    return not isinstance(value, Mapping | list | tuple | set | frozenset | bytes)


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value if value and value.strip() == value and value.isprintable() else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        stripped = value.lstrip()[:1]
        if stripped == "{":
            return "an object"
        return "a list" if stripped == "[" else "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _one_line(text: str) -> str:
    """Every line break (all that str.splitlines knows) as a space: one message, one line."""
    return _LINE_BREAKS.sub(" ", text)
