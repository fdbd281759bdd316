"""Fly's error answers, as the Machines API, GraphQL and the registry give them.

- Machines API errors are `{"error": ...}` (superfly/fly-go `flaps/flaps.go`
  handleAPIError reads `error` and `message`; `flaps/flaps_apps_test.go` shows
  `{"error":"app not found"}` for a 404 and `{"error":"unauthorized"}` for a 403).
- A taken app name is a 422 with `{"error": "Validation failed: Name has already been
  taken", "status": "name_taken"}` (superfly/docs `machines/api/working-with-machines-api`
  "422 Validation failed (for example, an app name that is already taken)"; fly-go
  `flaps/flaps_error_test.go` for the body).
- GraphQL answers `{"data": null, "errors": [{"message", "extensions": {"code"}}]}`.
- The registry answers `{"errors": [{"code", "message"}]}` with the OCI codes
  (opencontainers/distribution-spec spec.md).
"""

from __future__ import annotations

from typing import Any

# fly-go flaps/flaps_error_test.go: the body of a taken app name (a 422).
NAME_TAKEN = {"error": "Validation failed: Name has already been taken", "status": "name_taken"}
APP_NOT_FOUND = "app not found"
CERTIFICATE_NOT_FOUND = "certificate not found"
METHOD_NOT_ALLOWED = "method not allowed"
UNAUTHORIZED = "unauthorized"


def error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    """A Machines API error answer: the status and `{"error": message}`."""
    return status, {"error": message}


def graphql_error(message: str, code: str = "") -> dict[str, Any]:
    """A GraphQL error answer (HTTP 200, `data` null)."""
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def registry_error(code: str, message: str = "unknown") -> dict[str, Any]:
    """An OCI distribution API error body (distribution-spec spec.md "Error Codes")."""
    return {"errors": [{"code": code, "message": message}]}
