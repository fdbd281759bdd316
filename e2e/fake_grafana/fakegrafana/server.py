"""gRPC serving (e2e/fakeprovider/server.py): Grafana API errors and the provider's own
configuration errors reach the engine with their message alone, no traceback."""

from __future__ import annotations

from fakeprovider import server

from fakegrafana.provider import FakeGrafana, GrafanaError
from fakegrafana.store import CallLog, Store


def main() -> None:
    server.main(
        "fake pulumi-resource-grafana",
        lambda: FakeGrafana(Store.from_env(), CallLog.from_env()),
        FakeGrafana.sdk_version(),
        (GrafanaError,),
    )
