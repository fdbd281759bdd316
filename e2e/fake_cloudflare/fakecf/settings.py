"""Zone setting values as Cloudflare's API takes and holds them, for the settings the program sets.

The provider sends `value` through unchanged (the Terraform schema types it as a dynamic
attribute, internal/services/zone_setting/schema.go @ a2efdc57), so the API alone judges
it: `PATCH /zones/{zone_id}/settings/{setting_id}` (cloudflare-go v6 zones/setting.go,
SettingService.Edit) refuses a value outside the setting's shape with 400, code 1007
"Invalid value for zone setting <id>" (pulumi/pulumi-cloudflare#1319), and `GET` answers
the value the zone holds in the API's own shape (SettingService.Get).

The shapes, from cloudflare-go v6 zones/setting.go (16ae7fd5): `ssl` one of off,
flexible, full, strict (SettingEditResponseZonesSchemasSSLValue); `always_use_https` on
or off (...AlwaysUseHTTPSValue); `min_tls_version` one of 1.0, 1.1, 1.2, 1.3
(MinTLSVersionValue); `security_header` an object `{strict_transport_security: {enabled,
include_subdomains, max_age, nosniff, preload}}` with snake_case keys, four booleans and
a number (SecurityHeadersValue, SecurityHeadersValueStrictTransportSecurity).

What the API does with a key it does not know inside `security_header`: it accepts the
PATCH, and a later GET answers the snake_case object without that key, so a program
sending `strictTransportSecurity`/`maxAge` sees a diff on every refresh
(pulumi/pulumi-cloudflare#1579, open: "Changing only the nested value keys to snake_case
made the resource converge"). The fake does the same: an unknown key is dropped, the
known ones are kept, and the rest of the object keeps what the zone held.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENUMS: dict[str, tuple[str, ...]] = {
    "ssl": ("off", "flexible", "full", "strict"),
    "always_use_https": ("on", "off"),
    "min_tls_version": ("1.0", "1.1", "1.2", "1.3"),
}

SECURITY_HEADER = "security_header"
HSTS = "strict_transport_security"
# Each field of strict_transport_security and the Python type its JSON value takes.
HSTS_FIELDS: dict[str, type] = {
    "enabled": bool,
    "include_subdomains": bool,
    "max_age": float,
    "nosniff": bool,
    "preload": bool,
}
# The fake's assumption for a zone that never set HSTS: everything off (HSTS is opt-in
# at Cloudflare; no source here gives the API's exact answer for an untouched zone).
HSTS_OFF: dict[str, Any] = {
    "enabled": False,
    "include_subdomains": False,
    "max_age": 0.0,
    "nosniff": False,
    "preload": False,
}

MODELLED = frozenset({*ENUMS, SECURITY_HEADER})


class InvalidValue(Exception):
    """The API's 1007 for this setting; the caller words it as the provider reports it."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def held(setting_id: str, value: Any, current: Any) -> Any:
    """What the zone holds after a PATCH of `value`, `current` being what it held before
    (None when never set). Raises InvalidValue when the API refuses the value. A setting
    the fake does not model is held as sent."""
    if setting_id in ENUMS:
        if not isinstance(value, str) or value not in ENUMS[setting_id]:
            raise InvalidValue(setting_id)
        return value
    if setting_id != SECURITY_HEADER:
        return value
    if not isinstance(value, Mapping):
        raise InvalidValue(setting_id)
    before = current.get(HSTS) if isinstance(current, Mapping) else None
    hsts = dict(before) if isinstance(before, Mapping) else dict(HSTS_OFF)
    sent = value.get(HSTS)
    if sent is not None:
        if not isinstance(sent, Mapping):
            raise InvalidValue(setting_id)
        for key, kind in HSTS_FIELDS.items():
            if key not in sent:
                continue
            given = sent[key]
            if kind is float:
                if not _is_number(given) or given < 0:
                    raise InvalidValue(setting_id)
                hsts[key] = float(given)
            elif not isinstance(given, bool):
                raise InvalidValue(setting_id)
            else:
                hsts[key] = given
    return {HSTS: hsts}


def answered(setting_id: str, stored: Any) -> Any:
    """The value a GET answers: a security header always as the complete object."""
    if setting_id == SECURITY_HEADER:
        hsts = stored.get(HSTS) if isinstance(stored, Mapping) else None
        return {HSTS: {**HSTS_OFF, **(dict(hsts) if isinstance(hsts, Mapping) else {})}}
    return stored
