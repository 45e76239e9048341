"""Run the pack's policies the way `pulumi preview --policy-pack policy` does, without the CLI.

The Pulumi engine talks to a policy pack over the analyzer gRPC protocol: `Configure` (policy
config, with the schema defaults filled in), `Analyze` per resource (its inputs) and
`AnalyzeStack` once (every resource, with its outputs). `analyze` makes those same calls on the
pulumi-policy analyzer servicer, with properties sent as protobuf Structs, as the engine sends them:
numbers arrive as floats, unknown values as the engine's sentinels, secrets unwrapped. The tests
use it, and so can an offline preview; the pack itself (`__main__.py`) never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import guard_policies
from google.protobuf import json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto
from pulumi_policy import Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

PACK_VERSION = "0.1.0"


@dataclass(frozen=True)
class EngineResource:
    """A resource as the engine describes it to a policy pack."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] | None = None  # what AnalyzeStack sees; the inputs when None
    parent: str = ""
    custom: bool = True  # Analyze runs on custom resources; components only reach AnalyzeStack


@dataclass(frozen=True)
class Finding:
    policy: str
    urn: str
    message: str
    enforcement: str  # "MANDATORY", "ADVISORY", ...


def _wire(value: Any) -> Any:
    """A Python value as the engine puts it on the wire (JSON-able; unknowns as sentinels)."""
    if isinstance(value, Unknown):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {str(key): _wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(_wire(props), struct_pb2.Struct())


def default_config(policies: Sequence[Policy]) -> dict[str, dict[str, Any]]:
    """Each policy's config with its schema defaults, as the CLI computes it before `Configure`."""
    config: dict[str, dict[str, Any]] = {}
    for policy in policies:
        schema = policy.config_schema
        if schema is None:
            continue
        config[policy.name] = {
            key: spec["default"] for key, spec in schema.properties.items() if "default" in spec
        }
    return config


def analyze(
    resources: Iterable[EngineResource],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    policies: Sequence[Policy] | None = None,
) -> list[Finding]:
    """Every violation the pack reports over `resources`, resource and stack policies alike.

    `config` is per policy name, as in a `--policy-pack-config` file; it overrides the defaults.
    """
    policies = list(guard_policies.POLICIES if policies is None else policies)
    resources = list(resources)
    servicer = _PolicyAnalyzerServicer(
        guard_policies.PACK_NAME, PACK_VERSION, policies, guard_policies.ENFORCEMENT
    )

    merged = default_config(policies)
    for name, values in (config or {}).items():
        merged.setdefault(name, {}).update(values)
    configure = proto.ConfigureAnalyzerRequest()
    for name, values in merged.items():
        entry = configure.policyConfig[name]
        entry.properties.update(dict(values))
        # The CLI always sends a level; the policy's own, like an unconfigured `pulumi preview`.
        policy = next(p for p in policies if p.name == name)
        level = policy.enforcement_level or guard_policies.ENFORCEMENT
        entry.enforcementLevel = getattr(proto, level.name)
    servicer.Configure(configure, None)

    # (response, urn of the resource analyzed): the engine files a resource policy's violation
    # under that resource, a stack policy's under the urn it reports (or the stack).
    responses: list[tuple[Any, str]] = []
    for resource in resources:
        if not resource.custom:
            continue
        request = proto.AnalyzeRequest(
            type=resource.type,
            properties=_struct(resource.inputs),
            urn=resource.urn,
            name=resource.name,
        )
        responses.append((servicer.Analyze(request, None), resource.urn))

    stack_request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=resource.type,
                properties=_struct(
                    resource.inputs if resource.outputs is None else resource.outputs
                ),
                urn=resource.urn,
                name=resource.name,
                parent=resource.parent,
            )
            for resource in resources
        ]
    )
    responses.append((servicer.AnalyzeStack(stack_request, None), ""))

    return [
        Finding(
            policy=diagnostic.policyName,
            urn=diagnostic.urn or analyzed_urn,
            message=diagnostic.message,
            enforcement=proto.EnforcementLevel.Name(diagnostic.enforcementLevel),
        )
        for response, analyzed_urn in responses
        for diagnostic in response.diagnostics
    ]
