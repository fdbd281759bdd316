"""Preflight's image check: the app contract where the registry shows it (OCI
distribution API): the image exists, has a linux/amd64 manifest, and its config starts
a server on the ports the stack configures (README.md, "The app contract")."""

from __future__ import annotations

import base64
import os
import re
from typing import Any, Final

import httpx

from cli.httpclient import NoAnswer, Reader
from cli.preflight import base
from cli.preflight.base import Report
from components.config import StackConfig

# Where registry calls go instead of https://<registry host> (a mirror, or the tests'
# fake): the image reference itself is never rewritten.
REGISTRY_BASE_ENV: Final = "WEBHOST_REGISTRY_BASE_URL"
# flyctl internal/command/auth/docker.go: registry.fly.io takes HTTP Basic `x:<token>`,
# the token without its scheme (fly-go tokens/tokens.go Docker(): normalized, no scheme).
FLY_REGISTRY: Final = "registry.fly.io"
# OCI distribution spec: what a client accepts for a manifest (image-spec media-types.md,
# and Docker's schema2 types that registries still serve).
MANIFEST_TYPES: Final = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES: Final = frozenset(MANIFEST_TYPES[::2])
# Fly Machines run linux/amd64 (superfly/docs machines/guides-examples: images are
# pulled for x86-64; flyctl builds with --platform linux/amd64).
PLATFORM: Final = {"os": "linux", "architecture": "amd64"}


def split_image(image: str) -> tuple[str, str, str]:
    """(registry host, repository, tag or digest) as Docker's reference grammar reads it."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "registry-1.docker.io", image
        if "/" not in path:
            path = f"library/{path}"
    if "@" in path:
        repo, _, ref = path.partition("@")
    else:
        repo, _, ref = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
        ref = ref or "latest"
    return host, repo, ref


class _Registry(Reader):
    """One repository's manifests and blobs (OCI distribution spec, /v2/<repo>/...)."""

    def __init__(self, host: str, repo: str, token: str) -> None:
        where = os.environ.get(REGISTRY_BASE_ENV) or f"https://{host}"
        auth = None
        if host == FLY_REGISTRY:
            bare = token.split(" ", 1)[1] if token.startswith(("FlyV1 ", "Bearer ")) else token
            auth = "Basic " + base64.b64encode(f"x:{bare}".encode()).decode()
        super().__init__(f"Image: {host}", where, auth=auth, timeout=base.TIMEOUT)
        self.host, self.repo = host, repo

    def get(self, method: str, path: str, accept: str) -> httpx.Response:
        headers = {"Accept": accept}
        response = self.request(f"/v2/{self.repo}/{path}", method=method, headers=headers)
        challenge = response.headers.get("WWW-Authenticate", "")
        if (
            response.status_code == 401
            and self.host != FLY_REGISTRY
            and challenge.startswith("Bearer ")
        ):
            # Docker's token authentication (distribution docs spec/auth/token.md): an
            # anonymous pull token from the realm the challenge names.
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            realm = params.pop("realm", "")
            answer = self.request(realm, params=params, anonymous=True)
            if answer.is_success:
                body = answer.json()
                self.auth = f"Bearer {body.get('token') or body.get('access_token')}"
                response = self.request(f"/v2/{self.repo}/{path}", method=method, headers=headers)
        return response

    def document(self, path: str, accept: str) -> tuple[httpx.Response, Any]:
        """A manifest or config blob: the response and its JSON; NoAnswer unless 2xx."""
        answer = self.get("GET", path, accept)
        if not answer.is_success:
            raise NoAnswer(f"Image: {self.host} answered {answer.status_code} on GET {path}")
        return answer, answer.json()


def check_image(cfg: StackConfig, token: str, report: Report) -> None:
    host, repo, ref = split_image(cfg.image)
    registry = _Registry(host, repo, token)
    where = f"image {cfg.image} (webhost:image)"
    try:
        head = registry.get("HEAD", f"manifests/{ref}", ", ".join(MANIFEST_TYPES))
        if head.status_code == 404:
            report.problem(
                f"Image: {where} is not in {host}: push it (the app's CI) or fix the tag"
            )
            return
        if head.status_code in (401, 403):
            fix = (
                "FLY_API_TOKEN must be a token of the org that owns the repository"
                if host == FLY_REGISTRY
                else "preflight reads public images only"
            )
            report.problem(f"Image: {host} refused to show {where} ({head.status_code}): {fix}")
            return
        if not head.is_success:
            report.problem(
                f"Image: {host} answered {head.status_code} for {where}; run preflight again"
            )
            return
        report.ok(f"Image: {cfg.image} exists")
        _check_image_config(cfg, registry, ref, report)
    except NoAnswer as exc:
        report.problem(f"{exc} (checking {where})")
    except (ValueError, KeyError, TypeError, AttributeError):
        report.problem(f"Image: {host} answered {where} with a manifest preflight cannot read")
    finally:
        registry.close()


def _check_image_config(cfg: StackConfig, registry: _Registry, ref: str, report: Report) -> None:
    answer, manifest = registry.document(f"manifests/{ref}", ", ".join(MANIFEST_TYPES))
    kind = manifest.get("mediaType") or answer.headers.get("Content-Type", "").split(";")[0]
    if kind in INDEX_TYPES or "manifests" in manifest:
        chosen = [
            m
            for m in manifest.get("manifests") or []
            if all((m.get("platform") or {}).get(k) == v for k, v in PLATFORM.items())
        ]
        if not chosen:
            report.problem(
                f"Image: {cfg.image} has no linux/amd64 image, which Fly Machines run: "
                "build it with --platform linux/amd64"
            )
            return
        _, manifest = registry.document(
            f"manifests/{chosen[0]['digest']}", ", ".join(MANIFEST_TYPES)
        )
    digest = (manifest.get("config") or {}).get("digest")
    if not digest:
        return  # no config to read: existence is what the registry shows
    _, blob = registry.document(f"blobs/{digest}", "application/json")
    image_config = blob.get("config") or {}
    if not (image_config.get("Entrypoint") or image_config.get("Cmd")):
        report.problem(
            f"Image: {cfg.image} sets no ENTRYPOINT or CMD, and fly.toml starts none: "
            "the release must start the server (README, The app contract)"
        )
    exposed = image_config.get("ExposedPorts") or {}
    if exposed:
        wanted = {cfg.http.internal_port: "webhost:http.internalPort"}
        wanted[cfg.metrics.port] = "webhost:metrics.port"
        for port, key in wanted.items():
            if f"{port}/tcp" not in exposed:
                report.problem(
                    f"Image: {cfg.image} exposes {', '.join(sorted(exposed))} but not {port} "
                    f"({key}): fix the key or the image (README, The app contract)"
                )
    report.ok(f"Image: {cfg.image} config read (entrypoint, exposed ports)")
