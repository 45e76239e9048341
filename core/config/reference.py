"""What is generated from the schema: the configuration reference, `Pulumi.yaml`'s config
declarations and comment, and the JSON Schema of `Pulumi.<stack>.yaml`.

    python -m core.config.reference           # rewrite the three files
    python -m core.config.reference --check   # exit 1 when one is stale or a stack file is invalid
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import typing
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

import core.config.schema as schema
from core.errors import NAMESPACE

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "docs/configuration.md"
JSON_SCHEMA = "docs/stack.schema.json"
PROJECT = "Pulumi.yaml"
BOOTSTRAP_PROJECT = "bootstrap/Pulumi.yaml"
BOOTSTRAP_JSON_SCHEMA = "docs/state-stack.schema.json"
STACK_FILES = ("Pulumi.dev.yaml", "Pulumi.private.yaml")
SCHEMA_LINE = f"# yaml-language-server: $schema=./{JSON_SCHEMA}"
# Pulumi's project-level config takes only string, boolean, integer and array schemas, and a key
# declared without a default is required (Pulumi docs, "Project file reference", config).
_DECLARABLE = {str: "string", bool: "boolean", int: "integer"}
_GENERATED = "Generated from core/config/schema.py by `python -m core.config.reference`"


# --- reading the models -----------------------------------------------------------------------


def _fields(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    return [(info.alias or name, info) for name, info in model.model_fields.items()]


def _section(info: FieldInfo) -> type[BaseModel] | None:
    kind = schema.without_none(info.annotation)
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def type_name(info: FieldInfo) -> str:
    """A key's type as the reference writes it."""
    kind = schema.without_none(info.annotation)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return " \\| ".join(f"`{member.value}`" for member in kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return "object"
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in args)
    if origin in (list, tuple):
        item = args[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "list of {" + ", ".join(key for key, _ in _fields(item)) + "}"
        return "list of strings"
    if origin is dict:
        return "object of strings"
    if schema.secret(info):
        return "secret string"
    return {str: "string", bool: "boolean", int: "integer", float: "number"}[kind]


def default_text(info: FieldInfo) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "x-default" in extra:
        return str(extra["x-default"])
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None or _section(info) is not None:
        return "none" if value is None else "per field"
    value = value.value if isinstance(value, Enum) else value
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`"


# --- docs/configuration.md ----------------------------------------------------------------------


def _rows(model: type[BaseModel], path: str) -> list[str]:
    rows = []
    for key, info in _fields(model):
        limits = _limits(info)
        meaning = " ".join((info.description or "").split()).replace("|", "\\|")
        meaning += f" {limits}" if limits else ""
        rows.append(f"| `{path}{key}` | {type_name(info)} | {default_text(info)} | {meaning} |")
    return rows


def _limits(info: FieldInfo) -> str:
    names = ("ge", "gt", "le", "max_length")
    found = {k: getattr(m, k) for m in info.metadata for k in names if hasattr(m, k)}
    if "ge" in found and "le" in found:
        return f"({found['ge']}..{found['le']})"
    if "gt" in found and "le" in found:
        return f"(above {found['gt']}, at most {found['le']})"
    return f"(at most {found['max_length']})" if "max_length" in found else ""


def markdown(model: type[schema.StackSchema] = schema.StackSchema) -> str:
    head = ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines = [
        "# Configuration reference",
        "",
        f"<!-- {_GENERATED}; do not edit. -->",
        "",
        f"Namespace `{NAMESPACE}:` (set with `pulumi config set [--path] [--secret]`), plus the",
        "provider's region. Unknown keys and unknown fields inside objects are errors, so a typo",
        "never passes silently; each refusal is one line naming the key and what is allowed, and",
        "never shows a value that may be secret.",
        "",
        "## Top-level keys",
        "",
        *head,
        *_rows(schema.ProviderKeys, "azure-native:"),
        *_rows(model, ""),
    ]
    for key, info in _fields(model):
        section = _section(info)
        if section is None:
            continue
        lines += [
            "",
            f"## `{key}`",
            "",
            section.__doc__ or "",
            "",
            *head,
            *_rows(section, key + "."),
        ]
        for field, inner in _fields(section):
            item = typing.get_args(schema.without_none(inner.annotation))
            if item and isinstance(item[0], type) and issubclass(item[0], BaseModel):
                lines += ["", f"Each entry of `{key}.{field}`:", "", *head]
                lines += _rows(item[0], f"{key}.{field}[].")
    return "\n".join([*lines, "", *_editor_help()]) + "\n"


def _editor_help() -> list[str]:
    return [
        "## Checking stack files in an editor",
        "",
        f"`{JSON_SCHEMA}` is the JSON Schema of `Pulumi.<stack>.yaml`, generated from the same",
        "models. The example stack files name it on their first line:",
        "",
        "```yaml",
        SCHEMA_LINE,
        "```",
        "",
        "In VS Code, install Red Hat's YAML extension (`redhat.vscode-yaml`): it reads that",
        "line and completes keys, shows each key's description on hover, and marks unknown keys",
        "and wrong values as you type. Add the same line to a new stack file, or map every stack",
        "file at once in `.vscode/settings.json`:",
        '`"yaml.schemas": {"./docs/stack.schema.json": "Pulumi.*.yaml"}`.',
        "The state bootstrap's stack files have their own, `docs/state-stack.schema.json`",
        "(`$schema=../docs/state-stack.schema.json` from `bootstrap/`).",
        "`make lint` and `make test` check the repository's stack files against the schema.",
        "",
        "The editor check is the shape only: the program also applies the rules between keys",
        "(private link needs exclusive tracking, and so on) when it runs.",
    ]


# --- Pulumi.yaml --------------------------------------------------------------------------------


def pulumi_yaml(
    current: str,
    model: type[BaseModel] = schema.StackSchema,
    provider: type[BaseModel] = schema.ProviderKeys,
    source: str = "core/config/schema.py",
    reference: str = REFERENCE,
) -> str:
    """`current` with its config comment and `config:` block generated from the schema."""
    head = current.split("\n# ", 1)[0].rstrip("\n")
    documented, declared = [], ["config:"]
    for key, info in _fields(model):
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        default = default.value if isinstance(default, Enum) else default
        kind = _DECLARABLE.get(type(default))
        if kind is None:
            documented.append((key, info))
            continue
        declared += [
            f"  {key}:",
            f"    type: {kind}",
            f"    default: {json.dumps(default)}",
            f"    description: {json.dumps(info.description)}",
        ]
    comment = [
        f"# {_GENERATED.replace('core/config/schema.py', source)};",
        f"# the reference: {reference}.",
        "# Project-level config accepts only string, boolean, integer and array schemas, and a key",
        "# declared without a default becomes required. The program validates every key; the keys",
        "# below cannot be declared here and are documented instead:",
    ]
    for key, info in [("azure-native:location", provider.model_fields["location"])]:
        comment += _comment_lines(key, info)
    for key, info in documented:
        comment += _comment_lines(key, info)
    return "\n".join([head, "", *comment, *declared]) + "\n"


def _comment_lines(key: str, info: FieldInfo) -> list[str]:
    kind = type_name(info).replace(" \\| ", " | ")
    default = default_text(info)
    default = default if default == "required" else f"default {default}"
    what = f"{kind}; {default}. {info.description or ''}".replace("`", "")
    wrapped = textwrap.wrap(" ".join(what.split()), width=98 - 28, break_on_hyphens=False)
    first = f"#   {key:<25}{wrapped[0]}" if len(key) < 25 else f"#   {key}"
    rest = wrapped[1:] if len(key) < 25 else wrapped
    return [first, *(f"#{'':<28}{line}" for line in rest)]


# --- the stack files' JSON Schema ---------------------------------------------------------------

_SECURE = {
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
    "description": "A value encrypted by `pulumi config set --secret`.",
}
# `pulumi config set` stores what it is given as a string unless told a type: accept both.
_TRUE_FALSE = {"type": "string", "pattern": "^\\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\\s*$"}
_DIGITS = {"type": "string", "pattern": "^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$"}


def _relax(node: Any) -> Any:
    """Booleans and numbers also as the strings the Pulumi CLI writes."""
    if isinstance(node, list):
        return [_relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _relax(value) for key, value in node.items() if key != "title"}
    kind = node.get("type")
    if kind in ("boolean", "integer", "number"):
        plain = {k: v for k, v in node.items() if k not in ("description", "default")}
        other = {k: v for k, v in node.items() if k in ("description", "default")}
        return {**other, "anyOf": [plain, _TRUE_FALSE if kind == "boolean" else _DIGITS]}
    return node


def stack_schema(
    model: type[BaseModel] = schema.StackSchema,
    namespace: str = NAMESPACE,
    provider: type[BaseModel] = schema.ProviderKeys,
) -> dict[str, Any]:
    generated = model.model_json_schema(by_alias=True)
    defs = _relax(generated.get("$defs", {}))
    keys: dict[str, Any] = {}
    for key, prop in _relax(generated["properties"]).items():
        info = dict(model.model_fields)[_name(model, key)]
        value = {"$ref": "#/$defs/Secure"} if schema.secret(info) else {
            "anyOf": [prop, {"$ref": "#/$defs/Secure"}]
        }  # fmt: skip
        if schema.secret(info):
            value["description"] = info.description
        defs[f"key-{key}"] = value
        keys[f"{namespace}:{key}"] = keys[key] = {"$ref": f"#/$defs/key-{key}"}
    location = provider.model_fields["location"]
    keys["azure-native:location"] = {
        "type": "string",
        "pattern": "^[a-z][a-z0-9]+$",
        "description": location.description,
    }
    config = {
        "type": "object",
        "properties": keys,
        # Our keys must be known; other namespaces' keys are the other providers' to check.
        "propertyNames": {
            "anyOf": [{"enum": sorted(keys)}, {"pattern": f"^(?!{namespace}:)[^:]+:"}]
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": _GENERATED,
        "title": f"Pulumi.<stack>.yaml of {namespace}",
        "type": "object",
        "properties": {
            "config": config,
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {"type": ["array", "object"]},
        },
        "$defs": {**defs, "Secure": _SECURE},
    }


def _name(model: type[BaseModel], key: str) -> str:
    return next(n for n, i in model.model_fields.items() if (i.alias or n) == key)


def schema_text(*args: Any) -> str:
    return json.dumps(stack_schema(*args), indent=2) + "\n"


# --- write or check -----------------------------------------------------------------------------


def generated(root: Path = ROOT) -> dict[str, str]:
    """Each generated file's path (relative to `root`) and the text it should hold."""
    # The state bootstrap declares its keys with the same machinery (bootstrap/state_config.py).
    from bootstrap import state_config

    return {
        REFERENCE: markdown(),
        PROJECT: pulumi_yaml((root / PROJECT).read_text()),
        JSON_SCHEMA: schema_text(),
        BOOTSTRAP_PROJECT: pulumi_yaml(
            (root / BOOTSTRAP_PROJECT).read_text(),
            state_config.StateSchema,
            state_config.ProviderKeys,
            "bootstrap/state_config.py",
            "bootstrap/README.md",
        ),
        BOOTSTRAP_JSON_SCHEMA: schema_text(
            state_config.StateSchema, state_config.NAMESPACE, state_config.ProviderKeys
        ),
    }


def stack_file_problems(root: Path = ROOT) -> list[str]:
    """Where the repository's stack files break the JSON Schema (needs the dev requirements)."""
    import jsonschema
    import yaml

    validator = jsonschema.Draft202012Validator(json.loads((root / JSON_SCHEMA).read_text()))
    problems = []
    for name in STACK_FILES:
        text = (root / name).read_text()
        if not text.startswith(SCHEMA_LINE + "\n"):
            problems.append(f"{name}: the first line is not the schema line")
        for error in validator.iter_errors(yaml.safe_load(text)):
            path = "/".join(map(str, error.absolute_path))
            problems.append(f"{name}: {path}: {error.validator} failed")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if anything is stale")
    args = parser.parse_args(argv)
    stale = [path for path, text in generated().items() if _read(ROOT / path) != text]
    if not args.check:
        for path, text in generated().items():
            (ROOT / path).parent.mkdir(exist_ok=True)
            (ROOT / path).write_text(text)
        return 0
    problems = [f"{path} is stale: python -m core.config.reference" for path in stale]
    problems += stack_file_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
