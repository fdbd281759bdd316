"""A gRPC resource-provider plugin server for the stand-in providers.

`pulumi-resource-command` and `pulumi-resource-random` are Go modules the module
proxy this project reaches does not serve (see tools/build-engine.sh), so
`make e2e` runs these stand-ins in their place. They speak the same plugin
protocol (pulumi/pulumi proto/pulumi/provider.proto, v3.272.0 as vendored in the
Python SDK's pulumi.runtime.proto) and keep the real providers' resource
semantics that this program relies on; each module says which and cites where.

Protocol facts used here (provider.proto):
- the plugin prints its port alone on stdout's first line; argv[1] is the engine;
- Configure's `acceptSecrets=False` makes the engine send plaintext and re-mark
  outputs secret where the matching input was (pkg/resource/plugin/provider_plugin.go);
- an unknown value during preview is the string UNKNOWN below
  (sdk/go/common/resource/plugin/rpc.go UnknownStringValue);
- Diff answers DIFF_NONE / DIFF_SOME with `changes` and `replaces` (top-level keys).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

Props = dict[str, Any]

# The URN of the resource the current thread is serving (for logs that name it).
current = threading.local()


def to_dict(value: struct_pb2.Struct) -> Props:
    return json_format.MessageToDict(value) if value is not None else {}


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(dict(value))
    return out


def has_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


class Resource:
    """What one resource type does; the server turns it into RPCs."""

    # Inputs whose change replaces the resource rather than updating it.
    replace_on: frozenset[str] = frozenset()
    replace_on_any = False

    def check(self, news: Props) -> tuple[Props, list[tuple[str, str]]]:
        return news, []

    def create(self, name: str, inputs: Props, preview: bool) -> tuple[str, Props]:
        raise NotImplementedError

    def update(self, olds: Props, news: Props, preview: bool) -> Props:
        raise NotImplementedError

    def delete(self, state: Props) -> None:
        return None


class Provider(provider_pb2_grpc.ResourceProviderServicer):  # type: ignore[misc]
    def __init__(self, name: str, version: str, types: Mapping[str, Resource]) -> None:
        self.name, self.version, self.types = name, version, dict(types)

    def _type(self, urn: str) -> Resource:
        current.urn = urn
        token = urn.split("::")[2].rsplit("$", maxsplit=1)[-1]
        if token not in self.types:
            raise KeyError(f"{self.name} stand-in: unknown resource type {token}")
        return self.types[token]

    # Plugin and configuration RPCs.
    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=self.version)

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(schema="{}")

    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=True, acceptResources=False
        )

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    # Resource RPCs.
    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        inputs, failures = self._type(request.urn).check(to_dict(request.news))
        return provider_pb2.CheckResponse(
            inputs=to_struct(inputs),
            failures=[provider_pb2.CheckFailure(property=p, reason=r) for p, r in failures],
        )

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        kind = self._type(request.urn)
        olds = to_dict(request.old_inputs) or to_dict(request.olds)
        news = to_dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        replaces = [k for k in changed if kind.replace_on_any or k in kind.replace_on]
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed, replaces=replaces
        )

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:
        kind = self._type(request.urn)
        name = request.urn.split("::")[-1]
        try:
            id_, outs = kind.create(name, to_dict(request.properties), request.preview)
        except RuntimeError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(outs))

    def Read(self, request: Any, context: Any) -> provider_pb2.ReadResponse:
        # Neither real provider reads anything back: refresh keeps the state.
        return provider_pb2.ReadResponse(
            id=request.id, properties=request.properties, inputs=request.inputs
        )

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:
        kind = self._type(request.urn)
        try:
            outs = kind.update(to_dict(request.olds), to_dict(request.news), request.preview)
        except RuntimeError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        return provider_pb2.UpdateResponse(properties=to_struct(outs))

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:
        try:
            self._type(request.urn).delete(to_dict(request.properties))
        except RuntimeError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        return empty_pb2.Empty()


def serve(make: Callable[[], Provider]) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(make(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()
