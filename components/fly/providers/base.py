"""What every dynamic provider of ours shares: the provider's base, the diff by replacing
keys, and the resource declaration (outputs declared unknown, secret outputs re-marked).

Pickling. The engine keeps each resource's provider as a dill pickle in its `__provider`
input and output (pulumi sdk/python/lib/pulumi/dynamic/dynamic.py serialize_provider),
and dill pickles a class of an importable module by reference: module path and
qualified name. Read (refresh) and Delete unpickle the blob in the state's *outputs*
(sdk/python/lib/pulumi/dynamic/__main__.py), which an update with no change keeps. So a
provider class, once in some state, stays importable at the path it was pickled under:
components/fly/resources.py, certcheck.py, customcert.py, customcheck.py, machines.py and
shape.py re-export the classes that lived there before they moved here (one module a
provider). The type token is `pulumi-python:dynamic/<module>:<name>`, from the resource
class's `module=` and `name=` (dynamic.py Resource.__init_subclass__): those stay too.

Our providers' diff methods compare named inputs only, never `__provider`: a blob that
names the new module path is no change (no update, no replace), e2e/layout.py proves it
under the engine.

Secrets. The engine strips secrets before it calls a dynamic provider (the Python SDK's
provider declares acceptSecrets false: __main__.py) and re-marks only the outputs whose
key is a secret input's (annotateSecrets in pulumi pkg/resource/plugin/
provider_plugin.go). So each resource lists in SECRET_OUTPUTS, passed as
`additional_secret_outputs`, every output that carries a secret under another key, or
state would keep it in plaintext.

Providers hold no client, no token and no config: the engine re-loads them in a fresh
process, so every call makes its own client, which reads FLY_API_HOSTNAME (Machines
API), FLY_API_BASE_URL (GraphQL) and FLY_API_TOKEN from the environment of `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar, TypeVar

import pulumi
from pulumi.dynamic import DiffResult, Resource, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from components.fly.api import FlyClient, FlyConflict, FlyNotFound

T = TypeVar("T")


class Provider(ResourceProvider):
    """A provider of ours. It captures no secret, so its serialized form need not be one
    (it stays readable in state and in the plan)."""

    serialize_as_secret_always = False


class FlyProvider(Provider):
    """A provider over Fly's Machines API: a new client per call (module docstring)."""

    def _client(self) -> FlyClient:
        return FlyClient()

    def _host(self, id_: str, detail: bool = True) -> tuple[str, str, Any] | None:
        """A hostname resource's app, hostname and Fly's answer for it (its detail, or the
        certificate when not `detail`), from its id `app/hostname`; None only when Fly
        answers that the hostname (or its app) is not there."""
        app, hostname = id_.split("/", 1)
        client = self._client()
        fetch = client.get_certificate_detail if detail else client.get_certificate
        try:
            return app, hostname, fetch(app, hostname)
        except FlyNotFound:
            return None


def made_or_found(make: Callable[[], T], found: Callable[[], T]) -> T:
    """What `make` creates, or when Fly answers that it exists already (FlyConflict: a
    retried create that landed, or one cut off before state recorded it), what `found`
    says is there (which may refuse it as not ours)."""
    try:
        return make()
    except FlyConflict:
        return found()


def unknown(value: Any) -> bool:
    """Whether a value, or anything in it, is not known yet. A preview hands Diff the
    inputs computed from outputs not known yet (a Command's stdout, say) as
    pulumi.output.Unknown, or as rpc.UNKNOWN's string (pulumi sdk/python/lib/pulumi/
    dynamic/__main__.py Diff deserializes `news` keeping unknowns; runtime/rpc.py
    deserialize_property): a diff must say "changed" for it, never read into it."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(unknown(v) for v in value)
    return False


def replace_on(
    keys: Collection[str], olds: Mapping[str, Any], news: Mapping[str, Any]
) -> list[str]:
    """The keys among `keys` whose value changed: each one forces a replacement."""
    return [k for k in keys if olds.get(k) != news.get(k)]


def replacing(
    keys: Collection[str],
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    *,
    changed: bool = False,
    delete_first: bool | Collection[str] = False,
) -> DiffResult:
    """A diff replacing on `keys`, a change too when `changed`. `delete_first` says whether
    the old one goes before the new one is made: always, never, or when one of the keys
    named is replaced."""
    replaces = replace_on(keys, olds, news)
    first = (
        delete_first if isinstance(delete_first, bool) else bool(set(replaces) & {*delete_first})
    )
    return DiffResult(
        changes=bool(replaces) or changed, replaces=replaces, delete_before_replace=first
    )


class DynamicResource(Resource):
    """A resource of ours, declared by its class: PROVIDER makes its provider, INPUTS names
    the keyword arguments it takes (all of them, no other), OUTPUTS the outputs declared
    unknown until the provider answers; SECRET_INPUTS are made secret however they
    arrive, SECRET_OUTPUTS re-marked secret (module docstring). A subclass names its type
    token with `module=` and `name=`."""

    PROVIDER: ClassVar[type[ResourceProvider]]
    INPUTS: ClassVar[tuple[str, ...]] = ()
    OUTPUTS: ClassVar[tuple[str, ...]] = ()
    SECRET_INPUTS: ClassVar[tuple[str, ...]] = ()
    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, resource_name: str, *, opts: pulumi.ResourceOptions | None = None, **inputs: Any
    ) -> None:
        missing = [k for k in self.INPUTS if k not in inputs]
        unknown = sorted(set(inputs) - set(self.INPUTS))
        if missing or unknown:
            raise TypeError(
                f"{type(self).__name__} {resource_name!r}: inputs missing {missing}, "
                f"unknown {unknown}"
            )
        props = {k: self._input(k, v) for k, v in inputs.items()} | dict.fromkeys(self.OUTPUTS)
        if self.SECRET_OUTPUTS:
            secret = pulumi.ResourceOptions(additional_secret_outputs=list(self.SECRET_OUTPUTS))
            opts = pulumi.ResourceOptions.merge(opts, secret)
        super().__init__(self.PROVIDER(), resource_name, props, opts)

    def _input(self, key: str, value: Any) -> Any:
        """An input as the engine takes it: a secret one marked secret, a caller's mapping
        or sequence copied into the dict or list the SDK serializes."""
        if key in self.SECRET_INPUTS:
            return pulumi.Output.secret(value)
        if isinstance(value, Mapping):
            return dict(value)
        return list(value) if isinstance(value, list | tuple) else value
