"""What the tests of the fake provider plugins (e2e/fake_cloudflare, e2e/fake_grafana) share.

- `use_fake`: a fake's package and the shared `fakeprovider` importable, as the
  plugin's launcher (e2e/<fake>/bin/pulumi-resource-<name>) puts them on PYTHONPATH;
- `Engine`: the engine's calls (Check, Create, Read, Diff, Update, Delete) on the
  provider class, in-process, with URNs shaped as the program makes them (children of
  one component), and `invoke` for a function;
- value helpers (`props`, `plain`, `run`) and readers of the fake's state file and call
  log;
- `launched`: the plugin started as the engine starts it, from PATH, and a gRPC stub
  speaking to it; `served`, beneath it, does the same for any plugin command (the
  stand-in providers and the dynamic provider host use it too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Collection, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import struct_pb2
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    CreateRequest,
    DeleteRequest,
    DiffRequest,
    InvokeRequest,
    Provider,
    ReadRequest,
    UpdateRequest,
)
from pulumi.runtime.proto import provider_pb2_grpc

E2E = Path(__file__).resolve().parents[1] / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))  # e2e/fakeprovider, the fakes' shared package

from fakeprovider.values import from_plain, to_plain  # noqa: E402


def use_fake(directory: str) -> Path:
    """Put e2e/<directory> (the fake's own package) first on sys.path; return it."""
    fake = E2E / directory
    sys.path.insert(0, str(fake))
    return fake


def props(
    values: Mapping[str, Any], secret: frozenset[str] = frozenset()
) -> dict[str, PropertyValue]:
    return {k: from_plain(v, k in secret) for k, v in values.items()}


def plain(values: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: to_plain(v) for k, v in values.items()}


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """Values as a gRPC Struct, as the engine sends a launched plugin its inputs."""
    out = struct_pb2.Struct()
    out.update(values)
    return out


def sdk_version(sdk: ModuleType) -> str:
    """The plugin version an SDK package asks the engine for (its pulumi-plugin.json)."""
    manifest = Path(str(sdk.__file__)).parent / "pulumi-plugin.json"
    return str(json.loads(manifest.read_text())["version"])


def as_props(values: Mapping[str, Any]) -> Mapping[str, PropertyValue]:
    """Values as the engine sends them: plain ones wrapped, PropertyValues as they are."""
    if all(isinstance(v, PropertyValue) for v in values.values()):
        return values
    return props(values)


def invoke(fake: Provider, token: str, args: Values) -> Any:
    """The engine's Invoke of a function (a data source), the args plain or wrapped."""
    return run(fake.invoke(InvokeRequest(token, as_props(args))))


def state_paths(tmp_path: Path, fake: str) -> tuple[Path, Path]:
    """The fake's state file and call log in a test's own directory."""
    return tmp_path / f"{fake}.json", tmp_path / "calls.jsonl"


def stored(paths: tuple[Path, Path]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths[0].read_text())
    return data


def log_entries(paths: tuple[Path, Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in paths[1].read_text().splitlines()]


Values = Mapping[str, Any]
Keys = Collection[str]  # the names of secret inputs


@dataclass(frozen=True)
class Engine:
    """The engine's calls for the children of one component of one stack."""

    stack: str
    parent_type: str  # the component's type, which a child's URN type carries

    def urn(self, token: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::webhost::{self.parent_type}${token}::{name}"

    def check(
        self, fake: Provider, token: str, name: str, inputs: Values, secret: Keys = ()
    ) -> Any:
        request = CheckRequest(self.urn(token, name), {}, props(inputs, frozenset(secret)), b"")
        return run(fake.check(request))

    def create(
        self, fake: Provider, token: str, name: str, inputs: Values, secret: Keys = ()
    ) -> Any:
        """Check, then Create with the checked inputs, as `pulumi up` does."""
        checked = self.check(fake, token, name, inputs, secret)
        assert not checked.failures, [f.reason for f in checked.failures]
        return run(fake.create(CreateRequest(self.urn(token, name), checked.inputs, 60, False)))

    # Read, Diff, Update and Delete of a resource by its id; `olds` is what the engine
    # holds (its outputs), `news` the new inputs, plain or as Check returned them.
    def read(self, fake: Provider, token: str, name: str, resource_id: str, olds: Values) -> Any:
        return run(fake.read(ReadRequest(self.urn(token, name), resource_id, as_props(olds), {})))

    def diff(
        self, fake: Provider, token: str, name: str, resource_id: str, olds: Values, news: Values
    ) -> Any:
        request = DiffRequest(
            self.urn(token, name), resource_id, as_props(olds), as_props(news), []
        )
        return run(fake.diff(request))

    def update(
        self, fake: Provider, token: str, name: str, resource_id: str, olds: Values, news: Values
    ) -> Any:
        urn = self.urn(token, name)
        request = UpdateRequest(urn, resource_id, as_props(olds), as_props(news), 60, [], False)
        return run(fake.update(request))

    def delete(self, fake: Provider, token: str, name: str, resource_id: str, olds: Values) -> Any:
        request = DeleteRequest(self.urn(token, name), resource_id, as_props(olds), 60)
        return run(fake.delete(request))


@contextlib.contextmanager
def launched(
    tmp_path: Path, fake: Path, plugin: str, env: Mapping[str, str]
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The plugin found on PATH as the engine finds it (`pulumi-resource-<name>`), linked
    from elsewhere to show its launcher finds the checkout's virtualenv from its own
    location; started with the engine's address and `env`, its port read from its first
    line of stdout; a stub speaking gRPC to it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / plugin).symlink_to(fake / "bin" / plugin)
    with served(
        [plugin, "127.0.0.1:1"],
        cwd=tmp_path,
        env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), **env},
    ) as stub:
        yield stub


@contextlib.contextmanager
def served(
    argv: list[str], *, cwd: Path, env: Mapping[str, str], stdin: str = ""
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """A provider plugin started as the engine starts one: it prints the port it serves
    gRPC on as its first line of stdout (pulumi sdk/go/common/resource/plugin/plugin.go,
    newPlugin reads it and parsePort parses it). Yields a stub speaking to it; the
    plugin is killed after. Its stdin is a pipe the engine holds open (plugin.go
    execPlugin, `cmd.StdinPipe()`), here holding `stdin`."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd, env=dict(env)
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(stdin)
        proc.stdin.flush()
        port = int(proc.stdout.readline())
        # The engine's grpc-go accepts 16 MiB of headers (google.golang.org/grpc v1.85.0
        # internal/transport/defaults.go defaultClientMaxHeaderListSize), not grpc
        # core's 8 KiB: an error's message (its trailer) can quote a whole script.
        options = [("grpc.max_metadata_size", 16 << 20)]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()


def rule_group(folder: str, **over: Any) -> dict[str, Any]:
    """A Grafana rule group the fake takes: one rule over the Fly data source."""
    group = {
        "name": "webhost targets",
        "folderUid": folder,
        "intervalSeconds": 60,
        "rules": [
            {
                "name": "latency-p95",
                "condition": "B",
                "for": "10m",
                "noDataState": "OK",
                "execErrState": "Error",
                "datas": [
                    {
                        "refId": "A",
                        "datasourceUid": "webhost-fly-prom",
                        "relativeTimeRange": {"from": 600, "to": 0},
                        "model": json.dumps({"refId": "A", "expr": "up"}),
                    }
                ],
            }
        ],
    }
    group.update(over)
    return group


def fly_data_source(**over: Any) -> dict[str, Any]:
    """The Grafana data source of Fly's Prometheus the program makes (headers apart)."""
    return {
        "type": "prometheus",
        "name": "Fly Prometheus (webhost)",
        "uid": "webhost-fly-prom",
        "url": "https://api.fly.io/prometheus/webhost/",
        "accessMode": "proxy",
        **over,
    }
