"""gRPC serving, as a plugin does it: listen on 127.0.0.1, print the port on stdout.

The SDK's own `main` (pulumi/provider/experimental/server.py) serves the same
servicer; this one differs only in how a Cloudflare API error reaches the engine.
The SDK wraps any exception in a new one carrying a Python traceback; the real
provider answers with the API's message alone, so a CloudflareError (or a getZone
lookup failure) is turned back into a plain gRPC error with its own message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import DiffRequest
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from fakecf.api import CloudflareError
from fakecf.provider import FakeCloudflare, ZoneLookupError, sdk_version
from fakecf.store import CallLog, Store

_CLEAN = (CloudflareError, ZoneLookupError)
Handler = Callable[[Any, Any, Any], Awaitable[Any]]


def _plain_errors(inner: Handler) -> Handler:
    async def method(self: Any, request: Any, context: Any) -> Any:
        try:
            return await inner(self, request, context)
        except Exception as exc:
            # The SDK re-raises inside its `except`, so the original is the context.
            cause = exc if isinstance(exc, _CLEAN) else exc.__context__
            if isinstance(cause, _CLEAN):
                await context.abort(grpc.StatusCode.UNKNOWN, str(cause))
            raise

    return method


class Servicer(ProviderServicer):
    """The SDK's servicer, with API errors reported without a traceback."""

    async def DiffConfig(self, request: Any, context: Any) -> Any:
        # The SDK's DiffConfig copies the provider's boolean into the DiffChanges enum,
        # where True reads as DIFF_NONE (1) and False as DIFF_UNKNOWN (0)
        # (pulumi 3.272.0 provider/experimental/server.py; provider.proto DiffChanges).
        resp = await self._provider.diff_config(
            DiffRequest(
                request.urn,
                request.id,
                PropertyValue.unmarshal_map(request.olds),
                PropertyValue.unmarshal_map(request.news),
                list(request.ignoreChanges),
            )
        )
        changes = proto.DiffResponse.DIFF_SOME if resp.changes else proto.DiffResponse.DIFF_NONE
        return proto.DiffResponse(changes=changes, diffs=resp.diffs)


for _name in ("Create", "Update", "Delete", "Read", "Invoke"):
    setattr(Servicer, _name, _plain_errors(getattr(ProviderServicer, _name)))


async def serve(args: list[str], engine_address: str) -> None:
    provider = FakeCloudflare(Store.from_env(), CallLog.from_env())
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = Servicer(args, sdk_version(), provider, engine_address=engine_address)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    await server.start()
    # The engine reads the port from the plugin's first line of stdout.
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description="fake pulumi-resource-cloudflare")
    parser.add_argument("engine", help="the engine's gRPC address")
    known, _ = parser.parse_known_args()  # the engine may add --logtostderr, -v=N, ...
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sys.argv[1:], known.engine))
