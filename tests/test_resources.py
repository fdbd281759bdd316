"""The dynamic providers, called as the engine calls them, against the fake Fly API."""

from __future__ import annotations

import traceback
from typing import Any
from urllib.parse import quote

import pytest

from components.fly.api import FlyClient, FlyRefused
from components.fly.providers.app import AppProvider
from components.fly.providers.app_secrets import AppSecretsProvider
from components.fly.providers.certificate import CertificateProvider
from components.fly.providers.ip_address import IpAddressProvider
from tests.fakes.fly_api import ECHOES, FakeFlyApi
from tests.test_fly_api import DB_URL, KEY_BASE, survivors

# -- App -------------------------------------------------------------------------


def test_app_create_makes_the_app(fly_api: FakeFlyApi) -> None:
    result = AppProvider().create({"name": "webhost-staging", "org": "webhost-systems"})
    assert result.id == "webhost-staging"
    assert result.outs == {
        "name": "webhost-staging",
        "org": "webhost-systems",
        "status": "pending",
        "hostname": "webhost-staging.fly.dev",
    }
    assert fly_api.state.apps["webhost-staging"]["organization"]["slug"] == "webhost-systems"


def test_app_create_adopts_its_own_half_finished_create(fly_api: FakeFlyApi) -> None:
    AppProvider().create({"name": "w", "org": "o"})
    assert AppProvider().create({"name": "w", "org": "o"}).id == "w"


def test_app_create_refuses_another_orgs_app(fly_api: FakeFlyApi) -> None:
    AppProvider().create({"name": "w", "org": "someone-else"})
    with pytest.raises(RuntimeError, match="taken by another organization"):
        AppProvider().create({"name": "w", "org": "o"})


def test_app_create_refuses_an_app_this_token_cannot_see(fly_api: FakeFlyApi) -> None:
    fly_api.state.add_app("w", "other-org")  # GET answers 403, as fly-go's AppNameAvailable says
    with pytest.raises(RuntimeError, match="another organization \\(one this token cannot see"):
        AppProvider().create({"name": "w", "org": "o"})


def test_app_create_adopts_its_own_app_after_a_lost_answer(fly_api: FakeFlyApi) -> None:
    fly_api.state.lose_answer_next("POST", "/v1/apps")
    assert AppProvider().create({"name": "w", "org": "o"}).id == "w"
    assert len(fly_api.state.calls("POST", "/v1/apps")) == 2  # the retry got 422 name_taken
    assert list(fly_api.state.apps) == ["w"]


def test_app_create_reports_an_invalid_name_as_fly_words_it(fly_api: FakeFlyApi) -> None:
    invalid = "Validation failed: Name under 63 chars using numbers, lowercase letters and dashes"
    fly_api.state.fail_next("POST", "/v1/apps", 422, body={"error": invalid})
    with pytest.raises(FlyRefused, match=invalid):
        AppProvider().create({"name": "W_", "org": "o"})
    assert fly_api.state.calls("GET", "/v1/apps/W_") == []  # no adoption of a name not taken


def test_app_read_sees_it_and_its_org(fly_api: FakeFlyApi) -> None:
    AppProvider().create({"name": "w", "org": "o"})
    fly_api.state.apps["w"]["status"] = "deployed"
    read = AppProvider().read("w", {"name": "w", "org": "o"})
    assert read.id == "w"
    assert read.outs is not None
    assert read.outs["status"] == "deployed"
    assert read.inputs == {"name": "w", "org": "o"}


def test_app_read_reports_gone_after_out_of_band_delete(fly_api: FakeFlyApi) -> None:
    AppProvider().create({"name": "w", "org": "o"})
    del fly_api.state.apps["w"]
    assert AppProvider().read("w", {"name": "w", "org": "o"}).id == ""


def test_app_diff_replaces_on_name_or_org() -> None:
    olds = {"name": "w", "org": "o", "status": "deployed", "hostname": "w.fly.dev"}
    same = AppProvider().diff("w", olds, {"name": "w", "org": "o"})
    assert same.changes is False
    renamed = AppProvider().diff("w", olds, {"name": "w2", "org": "o2"})
    assert renamed.changes is True
    assert renamed.replaces == ["name", "org"]
    assert renamed.delete_before_replace is True  # the name is unique at Fly


def test_app_delete_is_idempotent(fly_api: FakeFlyApi) -> None:
    AppProvider().create({"name": "w", "org": "o"})
    AppProvider().delete("w", {})
    AppProvider().delete("w", {})
    assert fly_api.state.apps == {}


def test_app_create_retries_through_a_rate_limit(fly_api: FakeFlyApi) -> None:
    fly_api.state.fail_next("POST", "/v1/apps", 429, **{"Retry-After": "0"})
    assert AppProvider().create({"name": "w", "org": "o"}).id == "w"


# -- AppSecrets ------------------------------------------------------------------


@pytest.fixture
def app(fly_api: FakeFlyApi) -> str:
    AppProvider().create({"name": "w", "org": "o"})
    fly_api.state.secrets["w"] = {"OPERATOR_SET": "by hand"}
    return "w"


def test_secrets_create_sets_values_and_reports_a_version(app: str, fly_api: FakeFlyApi) -> None:
    result = AppSecretsProvider().create({"app": app, "values": {"A": "1", "B": "2"}})
    assert result.id == app
    assert result.outs is not None
    assert result.outs["keys"] == ["A", "B"]
    assert result.outs["version"] == 1
    assert fly_api.state.secrets[app] == {"OPERATOR_SET": "by hand", "A": "1", "B": "2"}


def test_secrets_version_is_the_one_fly_answers(app: str, fly_api: FakeFlyApi) -> None:
    fly_api.state.secrets_version[app] = 41  # writes made before this stack's
    outs = AppSecretsProvider().create({"app": app, "values": {"A": "1"}}).outs or {}
    assert outs["version"] == 42 == fly_api.state.secrets_version[app]


def test_secrets_update_sends_only_the_delta(app: str, fly_api: FakeFlyApi) -> None:
    provider = AppSecretsProvider()
    created = provider.create({"app": app, "values": {"A": "1", "B": "2"}})
    olds = dict(created.outs or {})
    updated = provider.update(app, olds, {"app": app, "values": {"A": "1", "C": "3"}})
    assert fly_api.state.calls("POST", "/v1/apps/w/secrets")[-1].body == {
        "values": {"B": None, "C": "3"}
    }
    assert fly_api.state.secrets[app] == {"OPERATOR_SET": "by hand", "A": "1", "C": "3"}
    assert updated.outs is not None
    assert updated.outs["version"] == 2


def test_secrets_update_without_change_makes_no_call(app: str, fly_api: FakeFlyApi) -> None:
    provider = AppSecretsProvider()
    olds = dict(provider.create({"app": app, "values": {"A": "1"}}).outs or {})
    before = len(fly_api.state.requests)
    assert provider.update(app, olds, {"app": app, "values": {"A": "1"}}).outs == olds
    assert len(fly_api.state.requests) == before


def _as_the_host_reports(call: Any) -> str:
    """What the dynamic provider host sends the engine for a failed call: the
    traceback, chained exceptions and all (pulumi sdk/python/lib/pulumi/dynamic/
    __main__.py _abort_with_traceback: traceback.format_exc())."""
    with pytest.raises(FlyRefused) as caught:
        call()
    return "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_secrets_writes_report_no_piece_of_a_value(
    app: str, fly_api: FakeFlyApi, echo: str
) -> None:
    provider = AppSecretsProvider()
    path = f"/v1/apps/{app}/secrets"
    fly_api.state.echo_next("POST", path, echo)
    report = _as_the_host_reports(
        lambda: provider.create({"app": app, "values": {"DATABASE_URL": DB_URL}})
    )
    assert survivors(report, DB_URL) == []
    olds = dict(provider.create({"app": app, "values": {"DATABASE_URL": DB_URL}}).outs or {})
    # an update that replaces the URL and unsets nothing sends the new value only;
    # the answer quoting Fly's stored (old) value is redacted too
    quoted = {"error": f"DATABASE_URL was {DB_URL}"}
    fly_api.state.fail_next("POST", path, 422, body=quoted)
    news = {"app": app, "values": {"DATABASE_URL": KEY_BASE}}
    report = _as_the_host_reports(lambda: provider.update(app, olds, news))
    assert "DATABASE_URL was" in report and survivors(report, DB_URL) == []
    fly_api.state.echo_next("POST", path, echo)
    report = _as_the_host_reports(lambda: provider.update(app, olds, news))
    assert survivors(report, KEY_BASE) == []
    fly_api.state.fail_next("POST", path, 422, body=quoted)
    report = _as_the_host_reports(lambda: provider.delete(app, olds))
    assert survivors(report, DB_URL) == []


def test_secrets_diff_sees_value_changes_and_replaces_on_app() -> None:
    olds = {"app": "w", "values": {"A": "1"}, "keys": ["A"], "version": 1}
    assert AppSecretsProvider().diff("w", olds, {"app": "w", "values": {"A": "1"}}).changes is False
    assert AppSecretsProvider().diff("w", olds, {"app": "w", "values": {"A": "2"}}).changes is True
    moved = AppSecretsProvider().diff("w", olds, {"app": "w2", "values": {"A": "1"}})
    assert moved.replaces == ["app"]


def test_secrets_read_drops_keys_removed_out_of_band(app: str, fly_api: FakeFlyApi) -> None:
    provider = AppSecretsProvider()
    olds = dict(provider.create({"app": app, "values": {"A": "1", "B": "2"}}).outs or {})
    del fly_api.state.secrets[app]["B"]
    read = provider.read(app, olds)
    assert read.outs is not None
    assert read.outs["values"] == {"A": "1"}
    # so the next diff against the program's values sets B again
    assert provider.diff(app, read.outs, {"app": app, "values": {"A": "1", "B": "2"}}).changes


def test_secrets_read_gone_with_the_app(app: str, fly_api: FakeFlyApi) -> None:
    olds = dict(AppSecretsProvider().create({"app": app, "values": {"A": "1"}}).outs or {})
    del fly_api.state.apps[app]
    assert AppSecretsProvider().read(app, olds).id == ""


def test_secrets_delete_unsets_only_owned_keys(app: str, fly_api: FakeFlyApi) -> None:
    provider = AppSecretsProvider()
    olds = dict(provider.create({"app": app, "values": {"A": "1"}}).outs or {})
    provider.delete(app, olds)
    assert fly_api.state.secrets[app] == {"OPERATOR_SET": "by hand"}


def test_secrets_delete_after_the_app_is_gone(app: str, fly_api: FakeFlyApi) -> None:
    olds = dict(AppSecretsProvider().create({"app": app, "values": {"A": "1"}}).outs or {})
    del fly_api.state.apps[app]
    AppSecretsProvider().delete(app, olds)  # nothing left to unset, and no error


# -- IpAddress -------------------------------------------------------------------


def test_ip_create_allocates_and_reports_the_address(app: str, fly_api: FakeFlyApi) -> None:
    result = IpAddressProvider().create({"app": app, "type": "v6"})
    assert result.outs is not None
    address = result.outs["address"]
    assert result.id == f"{app}/{address}"
    assert result.outs == {"app": app, "type": "v6", "address": address}
    assert [a["ip"] for a in fly_api.state.ips[app]] == [address]
    assert fly_api.state.calls("POST", "/v1/apps/w/ip_assignments")[-1].body == {"type": "v6"}


def test_shared_v4_create_adopts_the_one_the_app_has(app: str, fly_api: FakeFlyApi) -> None:
    first = IpAddressProvider().create({"app": app, "type": "shared_v4"})
    again = IpAddressProvider().create({"app": app, "type": "shared_v4"})  # 409 from Fly
    assert again.id == first.id
    assert len(fly_api.state.ips[app]) == 1


def test_ip_read_sees_it_and_its_type(app: str) -> None:
    created = IpAddressProvider().create({"app": app, "type": "shared_v4"})
    read = IpAddressProvider().read(created.id, dict(created.outs or {}))
    assert read.id == created.id
    assert read.inputs == {"app": app, "type": "shared_v4"}


def test_ip_read_reports_gone_when_released_out_of_band(app: str, fly_api: FakeFlyApi) -> None:
    created = IpAddressProvider().create({"app": app, "type": "v6"})
    fly_api.state.ips[app].clear()
    assert IpAddressProvider().read(created.id, dict(created.outs or {})).id == ""


def test_ip_read_reports_gone_with_the_app(app: str, fly_api: FakeFlyApi) -> None:
    created = IpAddressProvider().create({"app": app, "type": "v6"})
    del fly_api.state.apps[app]
    assert IpAddressProvider().read(created.id, dict(created.outs or {})).id == ""


def test_ip_diff_replaces_on_type_creating_the_new_one_first() -> None:
    olds = {"app": "w", "type": "shared_v4", "address": "66.241.124.17"}
    assert IpAddressProvider().diff("w/x", olds, {"app": "w", "type": "shared_v4"}).changes is False
    to_dedicated = IpAddressProvider().diff("w/x", olds, {"app": "w", "type": "v4"})
    assert to_dedicated.replaces == ["type"]
    assert to_dedicated.delete_before_replace is False


def test_ip_delete_releases_it_once(app: str, fly_api: FakeFlyApi) -> None:
    created = IpAddressProvider().create({"app": app, "type": "v6"})
    IpAddressProvider().delete(created.id, dict(created.outs or {}))
    IpAddressProvider().delete(created.id, dict(created.outs or {}))  # 404: already released
    assert fly_api.state.ips[app] == []
    address = quote(created.id.split("/", 1)[1], safe="")
    assert len(fly_api.state.calls("DELETE", f"/v1/apps/w/ip_assignments/{address}")) == 2


def test_ip_create_after_a_lost_answer_keeps_the_one_address_made(
    app: str, fly_api: FakeFlyApi
) -> None:
    fly_api.state.lose_answer_next("POST", "/v1/apps/w/ip_assignments")
    result = IpAddressProvider().create({"app": app, "type": "v4"})
    assert [a["ip"] for a in fly_api.state.ips[app]] == [(result.outs or {})["address"]]


def test_ip_read_tells_a_private_address_from_a_public_one(app: str, fly_api: FakeFlyApi) -> None:
    created = IpAddressProvider().create({"app": app, "type": "private_v6"})
    read = IpAddressProvider().read(created.id, dict(created.outs or {}))
    assert read.inputs == {"app": app, "type": "private_v6"}


def test_ip_create_retries_through_a_server_error(app: str, fly_api: FakeFlyApi) -> None:
    fly_api.state.fail_next("POST", "/v1/apps/w/ip_assignments", 503)
    assert IpAddressProvider().create({"app": app, "type": "v6"}).outs is not None
    assert len(fly_api.state.ips[app]) == 1


# -- Certificate -----------------------------------------------------------------


def test_certificate_create_reports_what_fly_needs(app: str, fly_api: FakeFlyApi) -> None:
    result = CertificateProvider().create({"app": app, "hostname": "www.webhost.example"})
    assert result.id == "w/www.webhost.example"
    outs = dict(result.outs or {})
    assert outs["status"] == "pending_validation"
    assert outs["configured"] is False
    assert outs["dns_requirements"]["acme_challenge"] == {
        "name": "_acme-challenge.www.webhost.example",
        "target": "www.webhost.example.k3v9x.flydns.net",
    }
    assert fly_api.state.calls("POST", "/v1/apps/w/certificates/acme")[-1].body == {
        "hostname": "www.webhost.example"
    }


def test_certificate_outputs_the_records_the_edge_makes(app: str, fly_api: FakeFlyApi) -> None:
    v6 = (IpAddressProvider().create({"app": app, "type": "v6"}).outs or {})["address"]
    IpAddressProvider().create({"app": app, "type": "shared_v4"})
    outs = CertificateProvider().create({"app": app, "hostname": "webhost.example"}).outs or {}
    assert outs["ownership_txt_name"] == "_fly-ownership.webhost.example"
    assert outs["ownership_txt_value"] == outs["dns_requirements"]["ownership"]["app_value"]
    assert outs["ownership_txt_value"].startswith("app-")  # the app's value, not the org's
    assert (outs["a_records"], outs["aaaa_records"]) == (["66.241.124.17"], [v6])


def test_certificate_read_follows_the_addresses_fly_lists(app: str, fly_api: FakeFlyApi) -> None:
    created = CertificateProvider().create({"app": app, "hostname": "webhost.example"})
    assert (created.outs or {})["aaaa_records"] == []
    v6 = (IpAddressProvider().create({"app": app, "type": "v6"}).outs or {})["address"]
    read = CertificateProvider().read(created.id, dict(created.outs or {}))
    assert (read.outs or {})["aaaa_records"] == [v6]


def test_certificate_create_adopts_its_own_earlier_create(app: str) -> None:
    CertificateProvider().create({"app": app, "hostname": "webhost.example"})
    again = CertificateProvider().create({"app": app, "hostname": "webhost.example"})
    assert again.id == "w/webhost.example"


def test_certificate_read_refreshes_status(app: str, fly_api: FakeFlyApi) -> None:
    created = CertificateProvider().create({"app": app, "hostname": "webhost.example"})
    fly_api.state.certificates[app]["webhost.example"] |= {"status": "active", "configured": True}
    read = CertificateProvider().read(created.id, dict(created.outs or {}))
    assert read.outs is not None
    assert (read.outs["status"], read.outs["configured"]) == ("active", True)


def test_certificate_read_reports_gone_on_404(app: str, fly_api: FakeFlyApi) -> None:
    created = CertificateProvider().create({"app": app, "hostname": "webhost.example"})
    fly_api.state.certificates[app].clear()
    assert CertificateProvider().read(created.id, dict(created.outs or {})).id == ""


def test_certificate_diff_replaces_on_hostname_and_moves_apps_delete_first() -> None:
    olds = {"app": "w", "hostname": "a.example", "status": "active"}
    same = CertificateProvider().diff("w/a.example", olds, {"app": "w", "hostname": "a.example"})
    assert same.changes is False
    renamed = CertificateProvider().diff("w/a.example", olds, {"app": "w", "hostname": "b.example"})
    assert (renamed.replaces, renamed.delete_before_replace) == (["hostname"], False)
    moved = CertificateProvider().diff("w/a.example", olds, {"app": "w2", "hostname": "a.example"})
    assert (moved.replaces, moved.delete_before_replace) == (["app"], True)


def test_certificate_delete_removes_the_hostname(app: str, fly_api: FakeFlyApi) -> None:
    created = CertificateProvider().create({"app": app, "hostname": "webhost.example"})
    CertificateProvider().delete(created.id, dict(created.outs or {}))
    CertificateProvider().delete(created.id, dict(created.outs or {}))
    assert fly_api.state.certificates[app] == {}


def test_certificate_create_waits_out_a_rate_limit(app: str, fly_api: FakeFlyApi) -> None:
    fly_api.state.fail_next("POST", "/v1/apps/w/certificates/acme", 429, **{"Retry-After": "0"})
    assert CertificateProvider().create({"app": app, "hostname": "webhost.example"}).outs


# -- A create cut off after Fly acted (the run died before state recorded it) ------------


@pytest.mark.parametrize("ip_type", ["v6", "v4", "shared_v4"])
def test_ip_create_adopts_what_a_cut_off_create_allocated(
    app: str, fly_api: FakeFlyApi, ip_type: str
) -> None:
    """Killed after Fly allocated (it allocates another v6 or dedicated v4 on every POST:
    the fake's _ips) and before the engine recorded it: the next create takes that
    address, and the app keeps exactly one of the type."""
    orphan = FlyClient().allocate_ip(app, ip_type)["ip"]
    again = IpAddressProvider().create({"app": app, "type": ip_type})
    assert again.id == f"{app}/{orphan}"
    assert [a["ip"] for a in fly_api.state.ips[app]] == [orphan]
    assert len(fly_api.state.calls("POST", f"/v1/apps/{app}/ip_assignments")) == 1


def test_ip_create_takes_the_oldest_when_several_are_left(app: str, fly_api: FakeFlyApi) -> None:
    first = FlyClient().allocate_ip(app, "v6")["ip"]
    FlyClient().allocate_ip(app, "v6")
    assert IpAddressProvider().create({"app": app, "type": "v6"}).id == f"{app}/{first}"
    assert len(fly_api.state.ips[app]) == 2  # an extra is never released by a create


def test_secrets_create_cut_off_after_fly_stored_them_converges_on_one_set(
    app: str, fly_api: FakeFlyApi
) -> None:
    # Secrets are keyed by name at Fly (fly-go secrets_types.go): a create run again
    # after a cut-off writes the same names, never a second copy.
    AppSecretsProvider().create({"app": app, "values": {"A": "1", "B": "2"}})
    again = AppSecretsProvider().create({"app": app, "values": {"A": "1", "B": "2"}})
    held = fly_api.state.secrets[app]
    assert {k: held[k] for k in ("A", "B")} == {"A": "1", "B": "2"}
    assert sorted(held) == ["A", "B", "OPERATOR_SET"]  # the fixture's own one untouched
    assert (again.outs or {})["keys"] == ["A", "B"]


def test_certificate_create_cut_off_after_fly_added_the_hostname_keeps_one(
    app: str, fly_api: FakeFlyApi
) -> None:
    CertificateProvider().create({"app": app, "hostname": "www.example.com"})
    again = CertificateProvider().create({"app": app, "hostname": "www.example.com"})
    assert again.id == f"{app}/www.example.com"
    assert list(fly_api.state.certificates[app]) == ["www.example.com"]
