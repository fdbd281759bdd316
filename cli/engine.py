"""Run the Pulumi program in-process under Pulumi's mock engine and record the graph.

Nothing leaves the process: no engine, no providers, no credentials. Each
registration is recorded as the engine would receive it (type, name, parent,
dependencies, protect, inputs with secrets still marked), which is what the
offline plan prints and what the tests assert on.

With `preview=True` (the plan) a mock returns only the inputs it was given, so
every value a provider would compute stays unknown, exactly as in
`pulumi preview`. With `preview=False` (tests) values resolve, so `apply`
callbacks run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import os
import pickle
import runpy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import configure
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from components.config import OFFLINE_ENV, SECRET_PLACEHOLDER

SECRET = SECRET_PLACEHOLDER
COMPUTED = "[computed]"
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_KEY = "__provider"  # a dynamic resource's pickled provider: code, not config


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    dependencies: tuple[str, ...]
    protect: bool
    retain_on_delete: bool
    inputs: Mapping[str, Any]  # as deserialized: secrets wrapped, unknowns as Unknown
    # The options the engine diffs with: property paths whose change replaces the
    # resource, and paths whose change it ignores (the diff reads them).
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool | None = None  # None: the provider decides

    def rendered_inputs(self) -> tuple[dict[str, Any], list[str]]:
        """Inputs safe to print (secrets masked, unknowns marked) and the keys holding secrets."""
        shown: dict[str, Any] = {}
        secret_keys: list[str] = []
        for key, value in sorted(self.inputs.items()):
            if key == PROVIDER_KEY:
                continue
            shown[key], secret = render(value)
            if secret:
                secret_keys.append(key)
        return shown, secret_keys


def _scalar(value: Any, unknown: Any) -> Any:
    if isinstance(value, Unknown):
        return unknown
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    return value


def render(value: Any, unknown: Any = COMPUTED) -> tuple[Any, bool]:
    """A deserialized value made printable, and whether it held a secret.

    Secrets become the placeholder; unknowns become `unknown` (shown as
    computed in a plan, absent for a policy, as in a preview).
    """
    if rpc.is_rpc_secret(value):
        return SECRET, True
    if isinstance(value, Mapping):
        pairs = {str(k): render(v, unknown) for k, v in sorted(value.items())}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list | tuple):
        items = [render(v, unknown) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return _scalar(value, unknown), False


@dataclass(frozen=True)
class Invocation:
    """A provider function the program called (a data source such as a zone lookup)."""

    token: str
    args: Mapping[str, Any]


@dataclass
class Evaluation:
    project: str
    stack: str
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    invokes: list[Invocation] = field(default_factory=list)

    def by_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources of type {type_} named {name}")
        return found[0]

    def rendered_outputs(self) -> dict[str, Any]:
        return {k: render(v)[0] for k, v in sorted(self.outputs.items())}


SM_CHECK = "grafana:syntheticMonitoring/check:Check"


class PlanMocks(pulumi_mocks.Mocks):
    """A provider that computes nothing: state is the inputs, ids are unknown in preview."""

    def __init__(self, preview: bool) -> None:
        self.preview = preview

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        resource_id = "" if self.preview else f"{args.name}-id"
        if resource_id and args.typ == SM_CHECK:
            # A synthetic check's id is Synthetic Monitoring's number, which its alerts
            # take as `check_id` (resource_check_alerts.go: strconv of the check's id).
            resource_id = str(sum(resource_id.encode()))
        return resource_id, dict(args.inputs)

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, []  # the mock monitor iterates the failures: never None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping every registration the way the engine sees it."""

    def __init__(self, mocks: pulumi_mocks.Mocks, preview: bool) -> None:
        super().__init__(mocks)
        self.preview = preview
        self.invokes: list[Invocation] = []
        self.registrations: list[Registration] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn: str | None = None
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _track_loop(self) -> None:
        # The base class gives each executor thread it runs in a loop of its own.
        self.thread_loops.add(_ensure_event_loop())

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        response = super().RegisterResource(request)
        self._track_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
        dependencies = set(request.dependencies)
        for deps in request.propertyDependencies.values():
            dependencies.update(deps.urns)
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                dependencies=tuple(sorted(dependencies)),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                inputs=inputs if isinstance(inputs, dict) else {},
                replace_on_changes=tuple(request.replaceOnChanges),
                ignore_changes=tuple(request.ignoreChanges),
                delete_before_replace=(
                    bool(request.deleteBeforeReplace)
                    if request.deleteBeforeReplaceDefined
                    else None
                ),
            )
        )
        return response

    def Invoke(self, request: Any) -> Any:  # gRPC method name
        args = rpc.deserialize_properties(request.args, keep_unknowns=True)
        self.invokes.append(Invocation(request.tok, args if isinstance(args, dict) else {}))
        self._track_loop()
        if self.preview:
            # Offline nothing can answer a data source: its result is unknown, as
            # the engine reports an invoke it cannot serve yet.
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # gRPC method name
        if request.urn == self.stack_urn:
            outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
            self.stack_outputs = dict(outputs) if isinstance(outputs, dict) else {}
        return super().RegisterResourceOutputs(request)


@contextlib.contextmanager
def _pickler_kept() -> Iterator[None]:
    """Undo what the SDK's dynamic-provider serializer leaves on `pickle._Pickler`.

    `serialize_provider` (pulumi sdk/python/lib/pulumi/dynamic/dynamic.py, 3.272.0)
    wraps `pickle._Pickler._batch_setitems` and replaces `save_dict` on every dynamic
    resource and never puts them back, so each wrapper calls the one before it. A
    `pulumi up` registers a few dozen, but one process evaluating the program again
    and again (the test suite, `diff`) stacks a wrapper per resource until pickling
    overflows the recursion limit: the constructor raises and the run never ends.
    """
    pickler: Any = pickle._Pickler
    saved = (pickler._batch_setitems, pickler.save_dict)
    try:
        yield
    finally:
        pickler._batch_setitems, pickler.save_dict = saved


def _run(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: Sequence[str],
    preview: bool,
    mocks: pulumi_mocks.Mocks | None,
) -> Evaluation:
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    monitor = RecordingMonitor(mocks or PlanMocks(preview), preview)
    # What `pulumi.runtime.set_mocks` does, minus the stack it registers eagerly:
    # `run_in_stack` makes the stack as a real run does, so exports land on it
    # and its outputs are registered once, at the end.
    features = monitor.GetDeploymentInfo(None).supportedFeatures
    configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(features),
            engine=pulumi_mocks.MockEngine(None),
            project=project,
            stack=stack,
            dry_run=preview,
            organization=None,
            callbacks=None,
            # Fresh per evaluation: the default is one set shared by every context.
            outputs=set(),
        )
    )
    # A loop of its own, closed at the end with the executor threads the mock
    # monitor runs in, so nothing is left for the interpreter to reap at exit.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with _pickler_kept():
            _sync_await(run_in_stack(program))
    finally:
        # A program that failed leaves registrations in flight: end them here.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
        # The mock monitor leaves a loop in each executor thread it ran in; close
        # them now rather than leave them to the interpreter's exit.
        for thread_loop in monitor.thread_loops:
            thread_loop.close()
    return Evaluation(
        project, stack, list(monitor.registrations), monitor.stack_outputs, monitor.invokes
    )


def evaluate(
    program: Path | Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: Sequence[str] = (),
    preview: bool = True,
    mocks: pulumi_mocks.Mocks | None = None,
    offline: bool = True,
) -> Evaluation:
    """Run `program` (a `__main__.py` path or a function) once, in isolation.

    Pulumi keeps its runtime state in context variables: each evaluation runs
    in a fresh copy of the context, so evaluations never see each other.
    `offline` (components.config.OFFLINE_ENV, set while it runs): nothing leaves
    this process, so no credential is needed; False evaluates as the real engine
    would.
    """
    if isinstance(program, Path):
        path = program

        def body() -> None:
            runpy.run_path(str(path), run_name="__main__")

        func: Callable[[], None] = body
    else:
        func = program
    context = contextvars.copy_context()
    with _environment(OFFLINE_ENV, "1" if offline else None), frozen_heap():
        return context.run(
            _run,
            func,
            project=project,
            stack=stack,
            config=config,
            secret_keys=secret_keys,
            preview=preview,
            mocks=mocks,
        )


_frozen_depth = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """The objects alive on entry left out of the cyclic collector's passes while inside,
    and handed back to it when the outermost such block ends (nested blocks freeze what
    was made since, and leave the thaw to the outermost).

    What is alive on entry (the CLI and its config models, or a test process's modules)
    and the SDKs the program then imports and freezes itself (__main__.py) are a heap of
    several hundred thousand objects. The run allocates fast enough to trigger full
    passes, each of which would walk that heap again: about 0.2 s of CPU in a prod plan
    (bench/plan.py). Nothing is lost: what becomes garbage inside is collected as usual,
    and the thaw covers the program's own freeze too, so everything is collectable again
    after, in a long process (the suite, `diff`) and in the interpreter's last pass at
    exit (gc.freeze/unfreeze docs)."""
    global _frozen_depth  # noqa: PLW0603 - one counter per process, as the gc's state is
    gc.freeze()
    _frozen_depth += 1
    try:
        yield
    finally:
        _frozen_depth -= 1
        if _frozen_depth == 0:
            gc.unfreeze()


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """`name` set to `value` (None: unset) while inside, as it was after."""
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
