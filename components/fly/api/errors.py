"""Fly's failed answers as exceptions: which are retried, and how each is kept free of secrets."""

from __future__ import annotations

from collections.abc import Iterable

from components.fly.api.redaction import redact


class FlyApiError(Exception):
    """A failed call, carrying Fly's own message (and its `status` code, when it sets one)."""

    retryable = True

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.code = code
        where = f"{method} {path}"
        super().__init__(
            f"Fly API {where} failed: {status} {message}"
            if status
            else f"Fly API {where}: {message}"
        )

    def redacted(self, secrets: Iterable[str], context: str = "") -> FlyApiError:
        """The same error (same class, status and code) with every piece of `secrets`
        taken out of Fly's message, and `context` (what was being done) before it."""
        message = redact(self.message, secrets)
        return type(self)(
            self.method,
            self.path,
            self.status,
            f"{context}: {message}" if context else message,
            retry_after=self.retry_after,
            code=self.code,
        )


class FlyAnswered(FlyApiError):
    """A failure asking again cannot mend: never retried."""

    retryable = False


class FlyNotFound(FlyAnswered):
    """404: the thing (or the app it belongs to) is not there."""


class FlyForbidden(FlyAnswered):
    """403: for an app, one that exists in an organization this token cannot read."""


class FlyConflict(FlyAnswered):
    """The thing already exists: a 409, or a 422 whose code (or legacy message) says so."""


class FlyRefused(FlyAnswered):
    """Any other 4xx (401, 400, a 422 that is not a taken name): asking again changes nothing."""


class FlyResponseError(FlyAnswered):
    """A success status whose body is not what Fly sends."""


class FlyOutcomeUnknown(FlyAnswered):
    """An allocating request was sent and its answer lost: it may have been applied."""


class FlyTokenError(FlyAnswered):
    """FLY_API_TOKEN is missing or unusable. Says where the problem is, never the token."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.method = self.path = "-"
        self.status = None
        self.message = message
        self.retry_after = None
        self.code = None
