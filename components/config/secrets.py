"""What is secret and what is plain: the app's env and secrets names (`webhost:env`,
`webhost:secrets`, the operator secrets), and the lines for a secure value where a
plain one belongs or the reverse. No line names a secret's value."""

from __future__ import annotations

import typing
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import SecretStr

from components import catalog
from components.config.validators import NAMESPACE, key_path

DERIVED_ENV_NAMES: frozenset[str] = frozenset({"PORT", "REGIONS", "POOL_SIZE"})
# What Fly's Phoenix launcher writes into rel/env.sh.eex (flyctl scanner/phoenix.go
# PhoenixCallback @ ad0172f), rendered into [env] instead, plus the shared cookie. What
# the release does with them: README.md, "The app contract".
CLUSTER_ENV_NAMES: frozenset[str] = frozenset(
    {"DNS_CLUSTER_QUERY", "ERL_AFLAGS", "ECTO_IPV6", "RELEASE_COOKIE"}
)
CLUSTER_RULE = (
    "is derived for clustering (DNS_CLUSTER_QUERY from appName, ERL_AFLAGS and ECTO_IPV6 "
    "for Fly's IPv6 network, RELEASE_COOKIE generated once); the program sets it"
)


def plain_env_name(name: str) -> str:
    if name in CLUSTER_ENV_NAMES:
        raise ValueError(CLUSTER_RULE)
    if name in catalog.SECRET_ENV_NAMES:
        raise ValueError("is a secret: the program sets it through Fly secrets, never plain env")
    if name in DERIVED_ENV_NAMES:
        raise ValueError(
            "is derived (PORT from http.internalPort, REGIONS from regions, "
            "POOL_SIZE from postgres.poolSize)"
        )
    return name


def app_secret_name(name: str) -> str:
    if name in CLUSTER_ENV_NAMES:
        raise ValueError(CLUSTER_RULE)
    if name in catalog.GENERATED_SECRETS:
        raise ValueError("the program generates this secret; pick another name")
    if name in catalog.DATA_SECRETS:
        raise ValueError("the data tier sets this secret (webhost:postgres, webhost:redis)")
    if name in catalog.OPERATOR_SECRETS.values():
        key = next(k for k, v in catalog.OPERATOR_SECRETS.items() if v == name)
        raise ValueError(f"set by webhost:{key}; set one or the other")
    if name in DERIVED_ENV_NAMES or name == "PHX_HOST":
        raise ValueError("a plain env name the program sets (PHX_HOST, PORT, REGIONS, POOL_SIZE)")
    return name


def holds_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(holds_secret(arg) for arg in typing.get_args(annotation))


SecurePath = tuple[int | str, ...]


def _secure_under(key: str, secure_paths: Collection[SecurePath]) -> list[SecurePath]:
    return sorted((p for p in secure_paths if p[:1] == (key,)), key=str)


def secret_problems(
    values: Mapping[str, Any],
    secret_keys: Collection[str],
    secure_paths: Collection[SecurePath] | None,
    *,
    secret_map: str,
    scalars: Collection[str],
) -> tuple[list[str], set[str]]:
    """Lines for secure values where plain ones belong and the reverse; and the keys at fault.

    `secure_paths` (full key first, then the path inside its value) says which values
    the stack file encrypts; None when only the top-level secret keys are known, as
    under the engine, which decrypts before the program runs. `secret_map` is the key
    of the app's secrets map, `scalars` the keys of single secrets (the operator's).
    """
    prefix = f"{NAMESPACE}:"
    problems: list[str] = []
    refused: set[str] = set()
    for key, value in values.items():
        full = f"{prefix}{key}"
        if key in scalars:
            if full not in secret_keys:
                problems.append(
                    f"{key_path([key])}: is a secret; "
                    f"set it with `pulumi config set --secret {full} <value>`"
                )
                refused.add(key)
        elif key == secret_map:
            names = list(value) if isinstance(value, Mapping) else []
            encrypted = (
                {p[1] for p in _secure_under(full, secure_paths) if len(p) == 2}
                if secure_paths is not None
                else (set(names) if full in secret_keys else set())
            )
            for name in names:
                if name not in encrypted:
                    problems.append(
                        f"{key_path([key, name])}: not encrypted, so it sits in the stack file "
                        f"in plain text; set it with `pulumi config set --secret --path "
                        f"'{full}.{name}' <value>`"
                    )
                    refused.add(key)
            if not isinstance(value, Mapping) and full not in secret_keys:
                problems.append(
                    f"{key_path([key])}: a map of names to secure values; set each with "
                    f"`pulumi config set --secret --path '{full}.NAME' <value>`"
                )
                refused.add(key)
        elif key == _MONITORING:
            found = _monitoring_secret_problems(full, value, secret_keys, secure_paths)
            problems += found
            if found:
                refused.add(key)
        elif full in secret_keys:
            refused.add(key)
            where = _secure_under(full, secure_paths or ())
            paths = [key_path([key, *p[1:]]) for p in where] or [key_path([key])]
            if key == "env":
                problems += [
                    f"{p}: a secure value in plain env, which fly.toml and every machine "
                    "carry in the clear; move it to webhost:secrets (`pulumi config set "
                    "--secret --path 'webhost:secrets.NAME' <value>`)"
                    for p in paths
                ]
            else:
                problems += [
                    f"{p}: a secure value, but this key is plain config that reaches "
                    "resource inputs in the clear; set it without --secret"
                    for p in paths
                ]
    return problems, refused


_MONITORING = "monitoring"


def _config_path(loc: SecurePath) -> str:
    """A key path as `pulumi config set --path` spells it (`a.b[0].c`)."""
    text = f"{NAMESPACE}:{loc[0]}"
    for part in loc[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


_CONTACT_SECRETS = frozenset({"url", "addresses"})


def _monitoring_secret_problems(
    full: str,
    value: Any,
    secret_keys: Collection[str],
    secure_paths: Collection[SecurePath] | None,
) -> list[str]:
    """webhost:monitoring is plain config but for its contact points' url and addresses.

    Setting one with `--secret --path` marks the whole key secret, so under the engine
    (which decrypts before the program runs) only the stack file says which paths are
    encrypted: offline each is checked, under the engine a secret key is trusted.
    """
    points = value.get("contactPoints") if isinstance(value, Mapping) else None
    wanted: set[SecurePath] = {
        (_MONITORING, "contactPoints", i, field)
        for i, point in enumerate(points if isinstance(points, list) else [])
        if isinstance(point, Mapping)
        for field in _CONTACT_SECRETS
        if point.get(field) is not None
    }
    if secure_paths is None:
        encrypted = wanted if full in secret_keys else set()
        stray: list[SecurePath] = []
    else:
        found = {(_MONITORING, *p[1:]) for p in _secure_under(full, secure_paths)}
        encrypted = found & wanted
        stray = sorted(found - wanted, key=str)
    problems = [
        f"{key_path(p)}: not encrypted, so it sits in the stack file in plain text; set it "
        f"with `pulumi config set --secret --path '{_config_path(p)}' <value>`"
        for p in sorted(wanted - encrypted, key=str)
    ]
    problems += [
        f"{key_path(p)}: a secure value, but this key is plain config that reaches resource "
        "inputs in the clear; set it without --secret"
        for p in stray
    ]
    return problems


def collisions(values: Mapping[str, Any]) -> list[str]:
    """A webhost:secrets name also in webhost:env: the app would get one of the two."""
    env, secrets = values.get("env"), values.get("secrets")
    if not isinstance(env, Mapping) or not isinstance(secrets, Mapping):
        return []
    return [
        f"{key_path(['secrets', name])}: also set in webhost:env; an app variable is either "
        "plain or secret"
        for name in secrets
        if name in env
    ]
