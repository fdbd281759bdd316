"""The plugin protocol's generated modules, loaded without the Pulumi SDK's package init.

A stand-in is started by the engine for every `pulumi up/preview/refresh/destroy` that
touches its resources, so its start-up is paid on each. It needs only the generated
protobuf and gRPC modules under pulumi/runtime/proto/ (alias_pb2, plugin_pb2,
provider_pb2, provider_pb2_grpc: they import each other relatively and otherwise only
`google.protobuf` and `grpc`). Importing them the ordinary way runs pulumi/__init__.py,
which imports the whole SDK (runtime, automation, mocks: about 0.1 s of CPU per plugin
start on this machine, half a stand-in's start-up), and pulumi/runtime/proto/__init__.py,
which imports every other service's modules too.

`load_without_sdk()` registers the three packages as bare modules whose __path__ is the
installed SDK's folder, so `from pulumi.runtime.proto import provider_pb2` loads that
file and its siblings alone. Only a stand-in run as a plugin calls it (its `__main__`),
before it imports `standin`; a process that already imported the SDK keeps it.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

PACKAGES = ("pulumi", "pulumi.runtime", "pulumi.runtime.proto")


def load_without_sdk() -> None:
    if any(name in sys.modules for name in PACKAGES):
        return  # the SDK (or part of it) is loaded already: leave it as it is
    spec = importlib.util.find_spec("pulumi")  # finds the folder, imports nothing
    if spec is None or not spec.submodule_search_locations:
        return  # no SDK here: the ordinary import reports it
    folder = Path(next(iter(spec.submodule_search_locations)))
    for name in PACKAGES:
        package = types.ModuleType(name)
        package.__path__ = [str(folder.joinpath(*name.split(".")[1:]))]
        sys.modules[name] = package
