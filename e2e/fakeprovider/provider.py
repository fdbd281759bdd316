"""The engine's side of a fake provider: Check/Diff/Create/Read/Update/Delete plumbing.

Built on the Python SDK's provider base (pulumi 3.272.0,
pulumi/provider/experimental/provider.py): the engine's gRPC calls arrive as requests
carrying PropertyValues. `FakeProvider` turns them into plain values, checks inputs
against the fake's table (e2e/fakeprovider/schema.py), computes diffs on what the
program controls, plans previews, runs each write in one transaction of the state
file and logs every call (names only). A fake subclasses it with its resource table
and says what its "cloud" does with a resource: `create_in`, `update_in`, `read_in`,
`delete_in`, and its own `invoke`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from fakeprovider import values
from fakeprovider.schema import Failure, Table, input_view
from fakeprovider.store import CallLog, JsonStore
from fakeprovider.values import UNKNOWN, plain_map, secret_keys, type_token, wrap

SchemaCheck = Callable[[str, str, Mapping[str, Any]], tuple[dict[str, Any], list[Failure]]]


def failures_of(failures: list[Failure]) -> list[CheckFailure]:
    return [CheckFailure(f.path, f.reason) for f in failures]


def name_of(urn: str) -> str:
    """A resource's name, the URN's last part (pulumi/pulumi sdk/go/common/resource/urn.go)."""
    return urn.rsplit("::", maxsplit=1)[-1]


def _kind(replace: bool, *, added: bool, deleted: bool) -> PropertyDiffKind:
    if added:
        return PropertyDiffKind.ADD_REPLACE if replace else PropertyDiffKind.ADD
    if deleted:
        return PropertyDiffKind.DELETE_REPLACE if replace else PropertyDiffKind.DELETE
    return PropertyDiffKind.UPDATE_REPLACE if replace else PropertyDiffKind.UPDATE


HOLD_NAMES = "FAKE_HOLD_AFTER_CREATE"
HOLD_DIR = "FAKE_HOLD_DIR"
HOLD_SECONDS = 600.0


async def hold_after_create(name: str) -> None:
    """The e2e crash phase's seam: once a resource named in $FAKE_HOLD_AFTER_CREATE
    (comma-separated) is made, write `<name>.held` in $FAKE_HOLD_DIR and wait, before
    answering the engine, until `<name>.release` appears there or the plugin is killed.
    A kill then lands after the far side acted and before the engine records it: the
    window a real API's latency opens, which a local fake otherwise closes at once."""
    names = os.environ.get(HOLD_NAMES, "")
    where = os.environ.get(HOLD_DIR)
    if not where or name not in names.split(","):
        return
    directory = Path(where)
    (directory / f"{name}.held").write_text("")
    deadline = time.monotonic() + HOLD_SECONDS
    while not (directory / f"{name}.release").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


class FakeProvider(Provider):
    """A stateful stand-in for one provider, its resources described by `resources`.

    Errors of the types in `errors` (the fake's API refusing) are logged with the call
    before they reach the engine; `e2e/fakeprovider/server.py` then reports them with
    their message alone.
    """

    name: ClassVar[str]  # the package, as the engine and the messages name it
    sdk_package: ClassVar[str]  # the Python SDK whose plugin this fake stands in for
    resources: ClassVar[Mapping[str, Table]]  # type token -> its fields
    errors: ClassVar[tuple[type[Exception], ...]]  # what the fake's "cloud" refuses with
    # The fake's schema module's check(token, resource name, inputs): (inputs with the
    # defaults filled, failures).
    schema_check: ClassVar[SchemaCheck]
    # Tokens whose Delete changes nothing: the provider only forgets the resource.
    forget_on_delete: ClassVar[frozenset[str]] = frozenset()
    # Whether a replacement deletes the old resource first (the engine's default: not).
    delete_before_replace: ClassVar[bool] = False

    def __init__(self, store: JsonStore, log: CallLog) -> None:
        self.store = store
        self.log = log

    # --- what each fake says -----------------------------------------------------------

    @classmethod
    def sdk_version(cls) -> str:
        """The version the fake's Python SDK asks the engine for (e2e/fakeprovider/values.py)."""
        return values.sdk_version(cls.sdk_package)

    def check_inputs(
        self, token: str, resource_name: str, inputs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Failure]]:
        """The fake's schema check: the inputs with defaults filled, and the failures."""
        return type(self).schema_check(token, resource_name, inputs)

    def config_failures(self, inputs: Mapping[str, Any]) -> list[Failure]:
        """What is wrong with the provider's configuration (nothing, unless a fake says)."""
        return []

    def configured(self, request: ConfigureRequest) -> list[str]:
        """Take the configuration in; return the names (never values) to log."""
        return sorted(request.variables)

    def comparable(self, token: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
        """Values as the provider compares them in Diff (as they are, unless a fake says)."""
        return props

    def require_client(self, token: str) -> None:
        """Raise (one of `errors`) when the provider has no API client for this resource."""

    def error_code(self, error: Exception) -> Any:
        """What the call log says of a refusal."""
        return True

    def create_in(
        self, state: dict[str, Any], token: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Make the resource in the state; return its id and outputs."""
        raise NotImplementedError

    def update_in(
        self, state: dict[str, Any], token: str, resource_id: str, news: dict[str, Any]
    ) -> dict[str, Any]:
        """Change the resource in the state; return its outputs."""
        raise NotImplementedError

    def read_in(
        self, state: Mapping[str, Any], token: str, resource_id: str, known: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The resource's outputs as the API reports them now, or None when it is gone.
        `known` is what the engine holds (a secret the API never returns comes from it)."""
        raise NotImplementedError

    def delete_in(
        self, state: dict[str, Any], token: str, resource_id: str, props: Mapping[str, Any]
    ) -> None:
        raise NotImplementedError

    def import_id(self, token: str, import_id: str) -> tuple[str, dict[str, Any]]:
        """An import id as the provider parses it: the resource's own id, and the state
        the id carries (a zone id, say). By default the id is the resource's id."""
        return import_id, {}

    # --- provider-level calls --------------------------------------------------------

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        # The engine asks only when generating code or converting; a name and version
        # suffice for that to fail clearly rather than hang.
        self.log.write("GetSchema", wrote=False)
        return GetSchemaResponse(json.dumps({"name": self.name, "version": self.sdk_version()}))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        failures = self.config_failures(plain_map(request.new_inputs))
        self.log.write(
            "CheckConfig",
            wrote=False,
            keys=sorted(request.new_inputs),
            failures=len(failures) or None,
        )
        return CheckResponse(inputs=request.new_inputs, failures=failures_of(failures))

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        old, new = plain_map(request.old_state), plain_map(request.new_inputs)
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        self.log.write("DiffConfig", wrote=False, changed=changed)
        return DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        keys = self.configured(request)
        self.log.write("Configure", wrote=False, keys=keys)
        # Output values and resource references are not modelled (no input takes them).
        return ConfigureResponse(
            accept_secrets=True,
            supports_preview=True,
            accept_resources=False,
            accept_outputs=False,
        )

    # --- resources -------------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        token = type_token(request.type)
        if token not in self.resources:
            failure = CheckFailure("", f"fake {self.name} provider does not model {token}")
            self.log.write("Check", wrote=False, token=token, name=request.name, failures=1)
            return CheckResponse(inputs=request.new_inputs, failures=[failure])
        inputs, failures = self.check_inputs(token, request.name, plain_map(request.new_inputs))
        self.log.write(
            "Check", wrote=False, token=token, name=request.name, failures=len(failures) or None
        )
        return CheckResponse(
            inputs=wrap(inputs, secret_keys(request.new_inputs)), failures=failures_of(failures)
        )

    async def diff(self, request: DiffRequest) -> DiffResponse:
        token = type_token(request.type)
        fields = self.resources[token]
        news = plain_map(request.new_inputs)
        olds = self.comparable(token, input_view(plain_map(request.old_state), fields, news))
        news_view = self.comparable(token, input_view(news, fields, news))
        ignored = set(request.ignore_changes)
        detailed: dict[str, PropertyDiff] = {}
        replaces: list[str] = []
        for key in sorted(olds.keys() | news_view.keys()):
            if key in ignored or olds.get(key) == news_view.get(key):
                continue
            spec = fields.get(key)
            replace = spec is not None and spec.replace
            kind = _kind(replace, added=key not in olds, deleted=key not in news_view)
            detailed[key] = PropertyDiff(kind, input_diff=True)
            if replace:
                replaces.append(key)
        self.log.write(
            "Diff",
            wrote=False,
            token=token,
            name=request.name,
            id=request.resource_id,
            changed=sorted(detailed) or None,
            replaces=replaces or None,
        )
        return DiffResponse(
            changes=bool(detailed),
            replaces=replaces,
            diffs=sorted(detailed),
            detailed_diff=detailed,
            delete_before_replace=self.delete_before_replace and bool(replaces),
        )

    def planned(self, token: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Preview: the inputs, and every output the API will fill as unknown."""
        planned = dict(inputs)
        for key, spec in self.resources[token].items():
            if spec.output_only or (spec.computed and planned.get(key) is None):
                planned[key] = UNKNOWN
        return planned

    async def create(self, request: CreateRequest) -> CreateResponse:
        token = type_token(request.type)
        inputs = plain_map(request.properties)
        secrets = secret_keys(request.properties)
        if request.preview:
            self.log.write("Create", wrote=False, preview=True, token=token, name=request.name)
            return CreateResponse(None, wrap(self.planned(token, inputs), secrets))
        try:
            self.require_client(token)
            with self.store.transaction() as state:
                resource_id, outputs = self.create_in(state, token, inputs)
        except self.errors as error:
            code = self.error_code(error)
            self.log.write("Create", wrote=False, token=token, name=request.name, error=code)
            raise
        self.log.write("Create", wrote=True, token=token, name=request.name, id=resource_id)
        await hold_after_create(request.name)
        return CreateResponse(resource_id, wrap(outputs, secrets))

    async def read(self, request: ReadRequest) -> ReadResponse:
        token = type_token(request.type)
        self.require_client(token)
        known = plain_map(request.properties)
        resource_id = request.resource_id
        if not known:
            # `pulumi import` reads with the id alone (pulumi/pulumi pkg/resource/deploy/
            # step.go ImportStep.Apply): the id is in the provider's import format.
            resource_id, known = self.import_id(token, resource_id)
        outputs = self.read_in(self.store.snapshot(), token, resource_id, known)
        if outputs is None:
            # Gone: an empty id tells the engine the resource no longer exists ("If the
            # ID is blank treat this as a delete", pulumi/pulumi pkg/resource/deploy/
            # step.go RefreshStep.Apply); each fake's read_in says when its provider does.
            self.log.write("Read", wrote=False, token=token, id=resource_id, found=False)
            return ReadResponse()
        self.log.write("Read", wrote=False, token=token, id=resource_id, found=True)
        secrets = secret_keys(request.properties) | secret_keys(request.inputs)
        return ReadResponse(
            resource_id,
            wrap(outputs, secrets),
            wrap(self.inputs_of(token, outputs), secrets),
        )

    def inputs_of(self, token: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs that produce these outputs: what Read hands back for refresh (a
        fake's own bookkeeping, a key starting with `_`, is never one)."""
        fields = self.resources[token]
        return {
            k: v
            for k, v in outputs.items()
            if k in fields and not fields[k].output_only and not k.startswith("_")
        }

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        token = type_token(request.type)
        news = plain_map(request.news)
        secrets = secret_keys(request.news)
        name = name_of(request.urn)
        if request.preview:
            self.log.write("Update", wrote=False, preview=True, token=token, name=name)
            return UpdateResponse(wrap(self.planned(token, news), secrets))
        try:
            self.require_client(token)
            with self.store.transaction() as state:
                outputs = self.update_in(state, token, request.resource_id, news)
        except self.errors as error:
            code = self.error_code(error)
            self.log.write("Update", wrote=False, token=token, name=name, error=code)
            raise
        self.log.write("Update", wrote=True, token=token, name=name, id=request.resource_id)
        return UpdateResponse(wrap(outputs, secrets))

    async def delete(self, request: DeleteRequest) -> None:
        token = type_token(request.type)
        name = name_of(request.urn)
        self.require_client(token)
        if token in self.forget_on_delete:
            self.log.write("Delete", wrote=False, token=token, name=name, id=request.resource_id)
            return
        props = plain_map(request.properties)
        try:
            with self.store.transaction() as state:
                self.delete_in(state, token, request.resource_id, props)
        except self.errors as error:
            code = self.error_code(error)
            self.log.write("Delete", wrote=False, token=token, name=name, error=code)
            raise
        self.log.write("Delete", wrote=True, token=token, name=name, id=request.resource_id)
