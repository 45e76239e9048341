"""A key the schema declares is read from its declaration: a boolean, an enum or a bounded whole
number needs no reader of its own, and every such key refuses a wrong value, naming itself."""

from enum import StrEnum
from typing import Any

import pytest
from pydantic import Field

from core.config import AccessMode, parse_config, schema
from core.config.readers import read_fields
from core.errors import ConfigError
from tests.stacks import DEV, SECRET_KEYS, SERVICE_PRINCIPAL, with_values

VAULT_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/keys-rg/providers/"
    "Microsoft.KeyVault/vaults/keys-kv"
)


class WithNewKeys(schema.Diagnostics):
    """diagnostics as it would be with three keys added: their declarations and nothing else."""

    sampling_percent: int = Field(5, ge=1, le=10, description="Percent of requests sampled.")
    pinned: bool = Field(False, description="Keep the settings when the workspace moves.")
    mode: AccessMode = Field(AccessMode.STANDARD, description="Any enum.")


def test_keys_added_to_a_section_take_their_declared_defaults():
    values = read_fields(WithNewKeys, {}, "diagnostics.")
    assert (values["sampling_percent"], values["pinned"]) == (5, False)
    assert values["mode"] is AccessMode.STANDARD
    assert values["retention_days"] == 90  # the keys already there keep theirs


def test_keys_added_to_a_section_are_read_from_the_strings_pulumi_hands_over():
    given = {"samplingPercent": "7", "pinned": "true", "mode": "dedicated"}
    values = read_fields(WithNewKeys, given, "diagnostics.")
    assert (values["sampling_percent"], values["pinned"]) == (7, True)
    assert values["mode"] is AccessMode.DEDICATED


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"samplingPercent": 11}, "diagnostics.samplingPercent: 11 is above 10; allowed: 1..10"),
        ({"samplingPercent": 0}, "diagnostics.samplingPercent: 0 is below 1; allowed: 1..10"),
        ({"samplingPercent": 2.5}, "diagnostics.samplingPercent: 2.5 is not a whole number"),
        ({"pinned": "yes"}, "diagnostics.pinned: yes is not a boolean; allowed: true, false"),
        (
            {"mode": "shared"},
            "diagnostics.mode: shared is not allowed; allowed: standard, dedicated",
        ),
        ({"samplngPercent": 3}, "did you mean diagnostics.samplingPercent?"),
    ],
)
def test_keys_added_to_a_section_refuse_a_wrong_value_naming_themselves(given, message):
    with pytest.raises(ConfigError) as caught:
        read_fields(WithNewKeys, given, "diagnostics.")
    assert message in str(caught.value)


# --- every such key the stack declares today ---------------------------------------------------

# What a section needs besides the key under test to be accepted.
_SECTION_BASE: dict[str, dict[str, Any]] = {
    "endpoint": {"model": "m", "version": 1},
    "batchEndpoint": {"model": "m", "version": 1},
    "customerManagedKey": {"keyVaultId": VAULT_ID, "keyName": "cmk"},
}


def _section_models() -> list[tuple[str, Any, Any]]:
    """(key, field info, model) of every object key of the stack's schema."""
    return [
        (key, info, model)
        for key, info in ((i.alias or n, i) for n, i in schema.StackSchema.model_fields.items())
        for model in [schema.without_none(info.annotation)]
        if isinstance(model, type) and issubclass(model, schema.Section)
    ]


def _scalar_keys() -> list[tuple[str, str, Any]]:
    """(section or "", key, a wrong value) for every boolean, enum and bounded whole number."""
    found = []
    sections = {"": schema.StackSchema} | {key: model for key, _, model in _section_models()}
    for section, model in sections.items():
        for name, info in model.model_fields.items():
            kind = schema.without_none(info.annotation)
            key = info.alias or name
            if kind is bool:
                found.append((section, key, "maybe"))
            elif kind is int:
                found.append((section, key, schema.limit(model, key, "le") + 1))
            elif isinstance(kind, type) and issubclass(kind, StrEnum):
                found.append((section, key, "no-such-value"))
    return found


@pytest.mark.parametrize(("section", "key", "wrong"), _scalar_keys())
def test_every_declared_boolean_enum_and_whole_number_refuses_a_wrong_value(section, key, wrong):
    raw = with_values({**DEV, **SERVICE_PRINCIPAL}, modelRegistry="azureml")
    if section:
        raw = with_values(raw, **{section: {**_SECTION_BASE.get(section, {}), key: wrong}})
    else:
        raw = with_values(raw, **{key: wrong})
    path = f"{section}.{key}" if section else key
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "dev", SECRET_KEYS)
    assert f"databricks-azureml:{path}: " in str(caught.value)


def test_the_scalar_keys_probed_include_every_kind():
    """The probe above covers booleans, enums and whole numbers, at the top and in sections."""
    probed = {(section, key) for section, key, _ in _scalar_keys()}
    assert {("", "protect"), ("", "trackingMode"), ("cluster", "minWorkers")} <= probed
    assert {("endpoint", "instanceCount"), ("network", "egress"), ("diagnostics", "enabled")} <= (
        probed
    )


def test_every_whole_number_key_declares_its_bounds():
    """read_fields checks a whole number against its `ge` and `le`: a key without them would
    pass any number, so the schema may not declare one."""
    models = [schema.StackSchema, *(m for _, _, m in _section_models())]
    unbounded = [
        f"{model.__name__}.{name}"
        for model in models
        for name, info in model.model_fields.items()
        if schema.without_none(info.annotation) is int
        and not all(
            any(getattr(m, bound, None) is not None for m in info.metadata)
            for bound in ("ge", "le")
        )
    ]
    assert unbounded == []
