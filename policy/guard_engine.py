"""Run the pack the way `pulumi preview --policy-pack policy` does, without the CLI.

The CLI starts a Python policy pack as `python -u -m pulumi.policy <engine address> <pack dir>`
(pulumi-policy's `pulumi-analyzer-policy-python` shim): the pack serves the Analyzer gRPC service
on 127.0.0.1 and prints its port on stdout. The engine then calls `GetAnalyzerInfo`, `Configure`
(policy config, with the schema defaults filled in), `Analyze` per resource (its inputs) and
`AnalyzeStack` once (every resource, with its outputs). `PackProcess` does the same through the
public `AnalyzerStub`, sending properties as protobuf Structs, as the engine sends them: numbers
arrive as floats, unknown values as the engine's sentinels. The tests use it; the pack itself
(`__main__.py`) never imports it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_WIRE_VALUE  # the engine's unknown sentinel

POLICY_DIR = Path(__file__).resolve().parent
# The pack never dials the engine while analyzing; the CLI passes its address all the same.
ENGINE_ADDRESS = "127.0.0.1:0"
START_SECONDS = 60
CALL_SECONDS = 60


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
    dependencies: Sequence[str] = ()  # urns of the resources this one depends on


@dataclass(frozen=True)
class Finding:
    policy: str
    urn: str
    message: str
    enforcement: str  # "MANDATORY", "ADVISORY", ...


def _wire(value: Any) -> Any:
    """A Python value as the engine puts it on the wire (JSON-able; unknowns as sentinels)."""
    if isinstance(value, Unknown):
        return UNKNOWN_WIRE_VALUE
    if isinstance(value, Mapping):
        return {str(key): _wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(_wire(props), struct_pb2.Struct())


def default_config(info: proto.AnalyzerInfo) -> dict[str, dict[str, Any]]:
    """Each policy's config with its schema defaults, as the CLI computes it before `Configure`."""
    config: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        properties = json_format.MessageToDict(policy.configSchema.properties)
        if properties:
            config[policy.name] = {
                key: spec["default"] for key, spec in properties.items() if "default" in spec
            }
    return config


class PackProcess:
    """The pack in `pack_dir`, started as the CLI starts it, reached over gRPC.

    Use as a context manager; one process serves any number of `analyze` calls.
    """

    def __init__(self, pack_dir: Path = POLICY_DIR, python: str = sys.executable) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close())
        self._process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(pack_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=pack_dir,
        )
        port = self._process.stdout.readline().strip() if self._process.stdout else ""
        if not port.isdigit():
            self._process.kill()
            self._process.wait()
            self._stderr.seek(0)
            error = self._stderr.read()[-4000:]
            self.close()
            raise RuntimeError(f"policy pack did not start: {error}")
        # Straight to the pack on loopback, never through a proxy from the environment.
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)]
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=START_SECONDS)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self.info: proto.AnalyzerInfo = self._stub.GetAnalyzerInfo(
                empty_pb2.Empty(), timeout=CALL_SECONDS
            )
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> PackProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if hasattr(self, "_channel"):
            self._channel.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._stderr.close()

    def configure(self, config: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Send the policy config: schema defaults overridden by `config` (per policy name, as
        in a `--policy-pack-config` file), and each policy's own enforcement level."""
        merged = default_config(self.info)
        for name, values in (config or {}).items():
            merged.setdefault(name, {}).update(values)
        request = proto.ConfigureAnalyzerRequest()
        for policy in self.info.policies:
            entry = request.policyConfig[policy.name]
            entry.properties.update(merged.get(policy.name, {}))
            entry.enforcementLevel = policy.enforcementLevel
        self._stub.Configure(request, timeout=CALL_SECONDS)

    def analyze(
        self,
        resources: Iterable[EngineResource],
        config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[Finding]:
        """Every violation the pack reports over `resources`, resource and stack policies alike."""
        self.configure(config)
        resources = list(resources)
        # (response, urn of the resource analyzed): the engine files a resource policy's
        # violation under that resource, a stack policy's under the urn it reports (or the stack).
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
            responses.append((self._stub.Analyze(request, timeout=CALL_SECONDS), resource.urn))

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
                    dependencies=list(resource.dependencies),
                )
                for resource in resources
            ]
        )
        responses.append((self._stub.AnalyzeStack(stack_request, timeout=CALL_SECONDS), ""))

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


def analyze(
    resources: Iterable[EngineResource],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    pack: PackProcess | None = None,
) -> list[Finding]:
    """`pack.analyze`, or the same through a pack process started for this one call."""
    if pack is not None:
        return pack.analyze(resources, config)
    with PackProcess() as started:
        return started.analyze(resources, config)
