"""Typed clients for the Fly Machines REST API and Fly's GraphQL API.

The token is read from FLY_API_TOKEN on every call and never stored, so a client
(and a dynamic provider that makes one) can be pickled into Pulumi state without
carrying a credential. Token policy: surrounding ASCII whitespace (the newline a
file or `$(...)` leaves, spaces from a paste) is trimmed; a line break, another
control character or a non-ASCII character left inside is refused with one error
that names the position, never the token, before any request is made.

Requests time out. 429 and failures that happened before the request left
(connection refused) are retried a bounded number of times, honouring
Retry-After. 5xx and answers lost after the request was sent are retried too,
except on a call that allocates something (an IP, an add-on): there the outcome
is unknown, so the caller is told (FlyOutcomeUnknown) and looks before it asks
again. Every answer is checked against the shape Fly documents; anything else
is a FlyResponseError naming the call.

No error carries a secret: an answer may quote the request it refuses, so every
error a call raises is passed through `redact` with the token and the secret
values that call sent (`request(..., secrets=...)`): secrets set and unset, a
certificate's private key. See `redact` for what counts as a piece of a value.
"""

from components.fly.api.answers import (
    App,
    Certificate,
    CertificateDetail,
    CheckedCertificate,
    IpAssignment,
    ip_type_of,
    parse,
)
from components.fly.api.client import (
    DEFAULT_HOSTNAME,
    RETRYABLE_STATUS,
    FlyClient,
    RetryPolicy,
)
from components.fly.api.errors import (
    FlyApiError,
    FlyConflict,
    FlyForbidden,
    FlyNotFound,
    FlyOutcomeUnknown,
    FlyRefused,
    FlyResponseError,
    FlyTokenError,
)
from components.fly.api.graphql import DEFAULT_GRAPHQL_BASE, FlyGraphQL
from components.fly.api.redaction import REDACTED, redact, secret_forms
from components.fly.api.token import authorization, read_token

__all__ = [
    "DEFAULT_GRAPHQL_BASE",
    "DEFAULT_HOSTNAME",
    "REDACTED",
    "RETRYABLE_STATUS",
    "App",
    "Certificate",
    "CertificateDetail",
    "CheckedCertificate",
    "FlyApiError",
    "FlyClient",
    "FlyConflict",
    "FlyForbidden",
    "FlyGraphQL",
    "FlyNotFound",
    "FlyOutcomeUnknown",
    "FlyRefused",
    "FlyResponseError",
    "FlyTokenError",
    "IpAssignment",
    "RetryPolicy",
    "authorization",
    "ip_type_of",
    "parse",
    "read_token",
    "redact",
    "secret_forms",
]
