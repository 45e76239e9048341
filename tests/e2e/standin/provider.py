"""What both stand-in provider plugins share: the ResourceProvider gRPC service of the Pulumi SDK's
own protos, the engine's launch protocol, values in and out, and HTTPS to the loopback cloud.

The engine starts a plugin as `pulumi-resource-<name> <engine address>` and reads the port it
listens on from its stdout. The plugin reports the version of the installed SDK package, which
is the version the program asks the engine for.

Preview: Create and Update with `preview` set answer the inputs as outputs and call nothing
(the engine calls them in previews whatever Configure answers about supportsPreview). Secrets: acceptSecrets false, so the engine strips
them before calling and marks outputs secret again from the inputs.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request
from concurrent import futures
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-value sentinel
CA_FILE_ENV = "SSL_CERT_FILE"  # the fake cloud's CA; what Python's ssl and Go's x509 read
DIFF = provider_pb2.PropertyDiff


class ProviderError(Exception):
    """An operation failed; the message is what `pulumi up` shows for the resource."""


def to_dict(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A Struct as plain values; whole numbers as ints (the wire has only doubles)."""
    if struct is None:
        return {}
    return _ints(json_format.MessageToDict(struct, preserving_proto_field_name=True))


def _ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def olds_and_news(request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Check or Update request's old and new properties, as plain values."""
    return to_dict(request.olds), to_dict(request.news)


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_drop_none(value))
    return struct


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def has_unknowns(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknowns(v) for v in value)
    return value == UNKNOWN


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any
    headers: dict[str, str]


def https(
    method: str,
    url: str,
    *,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    connect_to: str | None = None,
) -> HttpAnswer:
    """One HTTPS request, the certificate checked against SSL_CERT_FILE. `connect_to`
    (host:port) plays DNS: the TCP connection goes there, TLS and Host use the URL's name."""
    context = ssl.create_default_context(cafile=os.environ.get(CA_FILE_ENV))
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    handler = urllib.request.HTTPSHandler(context=context)
    if connect_to is not None:
        handler = _PinnedHTTPSHandler(connect_to, context)
    opener = urllib.request.build_opener(handler, urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=60) as response:
            raw = response.read()
            status, answer_headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as err:
        raw, status, answer_headers = err.read(), err.code, dict(err.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return HttpAnswer(status, parsed, {k.lower(): v for k, v in answer_headers.items()})


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._address = address
        self._context = context

    def https_open(self, req: urllib.request.Request) -> Any:
        import http.client

        address, context = self._address, self._context

        class Pinned(http.client.HTTPSConnection):
            def connect(self) -> None:
                import socket

                host, port = address.rsplit(":", 1)
                sock = socket.create_connection((host, int(port)), timeout=60)
                self.sock = context.wrap_socket(sock, server_hostname=self.host)

        return self.do_open(lambda host, **kw: Pinned(host, context=context), req)


class StandInProvider(provider_pb2_grpc.ResourceProviderServicer):
    """Subclasses set `name` and `package` and implement configure/create/read/update/delete,
    `replace_keys` and optionally invoke."""

    name = ""
    package = ""  # the Python SDK distribution whose version the engine asks for

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}

    # --- to implement ----------------------------------------------------------------------

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config

    def replace_keys(self, type_: str) -> tuple[str, ...]:
        return ()

    def check(self, type_: str, name: str, olds: dict[str, Any], news: dict[str, Any]) -> dict:
        return news

    def create(self, type_: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def read(self, type_: str, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def update(
        self, type_: str, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, type_: str, id_: str, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def read_inputs(
        self,
        type_: str,
        inputs: dict[str, Any],
        old_outputs: dict[str, Any],
        outputs: dict[str, Any],
    ) -> dict[str, Any]:
        """The inputs a refresh records, from the old inputs and outputs and the new outputs;
        by default the old inputs, unchanged."""
        return inputs

    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        raise ProviderError(f"{self.name}: no function {token} in the stand-in")

    # --- the gRPC service ------------------------------------------------------------------

    def version(self) -> str:
        return metadata.version(self.package)

    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return plugin_pb2.PluginInfo(version=self.version())

    def Handshake(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=False)

    def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        schema = {"name": self.name, "version": self.version()}
        return provider_pb2.GetSchemaResponse(schema=json.dumps(schema))

    def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, news = to_dict(request.old_inputs or request.olds), to_dict(request.news)
        olds.pop("version", None), news.pop("version", None)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        config = to_dict(request.args) if request.HasField("args") else {}
        if not config:  # older engines send only `variables`, "<pkg>:config:<key>" -> JSON
            for key, value in request.variables.items():
                try:
                    config[key.rsplit(":", 1)[-1]] = json.loads(value)
                except ValueError:
                    config[key.rsplit(":", 1)[-1]] = value
        self._call(context, self.configure, config)
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=True)

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        inputs = self._call(
            context, self.check, request.type, request.name, *olds_and_news(request)
        )
        return provider_pb2.CheckResponse(inputs=to_struct(inputs))

    def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds = to_dict(request.old_inputs) if request.HasField("old_inputs") else {}
        news = to_dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        replaces = [k for k in changed if k in self.replace_keys(request.type)]
        detailed = {
            k: provider_pb2.PropertyDiff(
                kind=(DIFF.UPDATE_REPLACE if k in replaces else DIFF.UPDATE), inputDiff=True
            )
            for k in changed
        }
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
            replaces=replaces,
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def preview_outputs(self, _type: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The outputs a preview answers: the inputs, where the real provider shapes none."""
        return inputs

    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        if request.preview:  # plan only: the inputs stand for the outputs, no cloud call
            props = to_dict(request.properties)
            shaped = self.preview_outputs(request.type, props)
            return provider_pb2.CreateResponse(
                properties=request.properties if shaped is props else to_struct(shaped)
            )
        id_, outputs = self._call(context, self.create, request.type, to_dict(request.properties))
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(outputs))

    def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        found = self._call(
            context, self.read, request.type, request.id, to_dict(request.properties)
        )
        if found is None:
            return provider_pb2.ReadResponse()  # no id: the resource is gone
        inputs = self._call(
            context, self.read_inputs, request.type, to_dict(request.inputs),
            to_dict(request.properties), found,
        )  # fmt: skip
        return provider_pb2.ReadResponse(
            id=request.id, properties=to_struct(found), inputs=to_struct(inputs)
        )

    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        if request.preview:
            olds, news = olds_and_news(request)
            merged = {**olds, **news}
            return provider_pb2.UpdateResponse(
                properties=to_struct(self.preview_outputs(request.type, merged))
            )
        outputs = self._call(
            context, self.update, request.type, request.id, *olds_and_news(request)
        )
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._call(context, self.delete, request.type, request.id, to_dict(request.properties))
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        result = self._call(context, self.invoke, request.tok, to_dict(request.args))
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})

    def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()

    def _call(self, context: Any, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except ProviderError as err:
            context.abort(grpc.StatusCode.UNKNOWN, str(err))


def serve(provider: StandInProvider) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # how the engine stops its plugins
        server.stop(grace=None)
