"""gRPC serving, as a plugin does it (e2e/fakeprovider/server.py).

The shared server fixes the SDK's DiffConfig and turns the errors named here back
into plain gRPC errors with the provider's own message: a Cloudflare API error, or a
getZone lookup that matched no zone or several, reaches the engine as the real
provider words it, without a Python traceback.
"""

from __future__ import annotations

from fakeprovider import server

from fakecf.api import CloudflareError
from fakecf.provider import FakeCloudflare, ZoneLookupError
from fakecf.store import CallLog, Store

CLEAN = (CloudflareError, ZoneLookupError)


def main() -> None:
    server.main(
        "fake pulumi-resource-cloudflare",
        lambda: FakeCloudflare(Store.from_env(), CallLog.from_env()),
        FakeCloudflare.sdk_version(),
        CLEAN,
    )
