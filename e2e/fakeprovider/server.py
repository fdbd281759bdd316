"""gRPC serving, as a plugin does it: listen on 127.0.0.1, print the port on stdout.

The SDK's own `main` (pulumi 3.272.0 pulumi/provider/experimental/server.py) serves the
same servicer; this one differs in two ways:
- DiffConfig: the SDK copies the provider's boolean into the DiffChanges enum, where
  True reads as DIFF_NONE (1) and False as DIFF_UNKNOWN (0) (provider.proto
  DiffChanges); here True is DIFF_SOME and False DIFF_NONE.
- Errors: the SDK wraps any exception in a new one carrying a Python traceback; a real
  provider answers with its API's message alone, so a fake's own error types (`clean`)
  are turned back into a plain gRPC error with their message.
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
from pulumi.provider.experimental.provider import DiffRequest, Provider
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

Handler = Callable[[Any, Any, Any], Awaitable[Any]]


def _plain_errors(inner: Handler, clean: tuple[type[BaseException], ...]) -> Handler:
    async def method(self: Any, request: Any, context: Any) -> Any:
        try:
            return await inner(self, request, context)
        except Exception as exc:
            # The SDK re-raises inside its `except`, so the original is the context.
            cause = exc if isinstance(exc, clean) else exc.__context__
            if isinstance(cause, clean):
                await context.abort(grpc.StatusCode.UNKNOWN, str(cause))
            raise

    return method


class _FixedDiffConfig(ProviderServicer):
    async def DiffConfig(self, request: Any, context: Any) -> Any:
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


def servicer_class(clean: tuple[type[BaseException], ...]) -> type[ProviderServicer]:
    """The SDK's servicer, DiffConfig fixed, `clean` errors reported without a traceback."""
    methods = {
        name: _plain_errors(getattr(ProviderServicer, name), clean)
        for name in ("Create", "Update", "Delete", "Read", "Invoke")
    }
    return type("Servicer", (_FixedDiffConfig,), methods)


async def serve(
    args: list[str],
    engine_address: str,
    provider: Provider,
    version: str,
    clean: tuple[type[BaseException], ...],
) -> None:
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = servicer_class(clean)(args, version, provider, engine_address=engine_address)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    await server.start()
    # The engine reads the port from the plugin's first line of stdout.
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


def main(
    description: str,
    make_provider: Callable[[], Provider],
    version: str,
    clean: tuple[type[BaseException], ...],
) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("engine", help="the engine's gRPC address")
    known, _ = parser.parse_known_args()  # the engine may add --logtostderr, -v=N, ...
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sys.argv[1:], known.engine, make_provider(), version, clean))
