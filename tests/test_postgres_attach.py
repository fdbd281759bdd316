"""The attach and detach scripts (postgres_attach.sh, postgres_detach.sh, lib.sh
detach_user), run for real against the fake `fly` and a real PostgreSQL server
(tests/pg_scripts.py says how)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components import postgres
from tests.conftest import FakeFly, run_command
from tests.fakes.pg_server import Server
from tests.pg_scripts import APP, CLUSTER, argvs, edit, failed, ok


def test_attach_makes_the_apps_own_user_and_database(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    state = sql_cluster.cluster(CLUSTER)
    password = state["users"]["webhost_prod"]
    assert "webhost_prod" in state["databases"]
    url = postgres.attached_url(done.stdout)
    assert (
        url
        == f"postgres://webhost_prod:{password}@{CLUSTER}.flycast:5432/webhost_prod?sslmode=disable"
    )
    assert done.stdout == f"WEBHOST_ATTACH_DATABASE_URL={url}\n"
    assert postgres.read_url(url, CLUSTER) == (
        f"postgres://webhost_prod:{password}@top1.nearest.of.{CLUSTER}.internal:5433/"
        "webhost_prod?sslmode=disable"
    )
    assert password not in done.stderr
    # the program owns DATABASE_URL: the attach's own secret is gone again
    assert sql_cluster.secrets(APP) == {}
    attach = next(a for a in argvs(sql_cluster) if a[:2] == ["postgres", "attach"])
    assert "--yes" in attach and attach[attach.index("--database-user") + 1] == "webhost_prod"


def test_attach_user_is_not_a_superuser(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    assert "webhost_prod" not in sql_cluster.cluster(CLUSTER)["superusers"]
    assert pg.query("SELECT rolsuper FROM pg_roles WHERE rolname = 'webhost_prod'") == ["f"]


def test_attach_credentials_never_reach_a_failed_runs_output(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # the attach succeeds, the scratch secret's removal after it fails
    done = failed(
        run_command(
            commands["webhost-db-attach"],
            sql_cluster,
            tmp_path,
            FAKE_FLY_FAIL_NTH="secrets unset:2",
        )
    )
    password = sql_cluster.cluster(CLUSTER)["users"]["webhost_prod"]
    assert password not in done.stdout + done.stderr


def test_an_answer_quoting_the_attachs_secret_reaches_no_output(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # Issue 17.9: flyctl's attach writes the new URL into the app's secrets; an error
    # that quotes that write (as is, JSON-encoded, as a password field) must not carry
    # the password, or any 8 characters of it, into the Command's error.
    done = failed(
        run_command(commands["webhost-db-attach"], sql_cluster, tmp_path, FAKE_FLY_ECHO_SECRETS="1")
    )
    password = sql_cluster.cluster(CLUSTER)["users"]["webhost_prod"]
    shown = done.stdout + done.stderr
    assert "failed to update app secrets" in shown  # the error itself still shows
    assert not [
        password[i : i + 8] for i in range(len(password) - 7) if password[i : i + 8] in shown
    ]
    assert "[redacted]" in shown


def test_attach_cut_off_half_way_converges_to_one_attachment(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    failed(
        run_command(
            commands["webhost-db-attach"], sql_cluster, tmp_path, FAKE_FLY_HALF="postgres attach"
        )
    )
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    assert postgres.attached_url(done.stdout).startswith("postgres://webhost_prod:")
    state = sql_cluster.cluster(CLUSTER)
    # flyctl registers the attachment before it makes the user (attach.go
    # runAttachCluster): the re-run detaches that record first, so one is left.
    assert [x["user"] for x in state["attachments"]] == ["webhost_prod"]
    assert f":{state['users']['webhost_prod']}@" in done.stdout


def test_attach_rerun_after_success_keeps_one_attachment(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    state = sql_cluster.cluster(CLUSTER)
    assert [x["user"] for x in state["attachments"]] == ["webhost_prod"]
    assert postgres.attached_url(done.stdout).startswith("postgres://webhost_prod:")
    assert f":{state['users']['webhost_prod']}@" in done.stdout  # the live password


def test_attach_update_prints_the_recorded_url_again(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    assert attach["addPreviousOutputInEnv"] is True
    created = ok(run_command(attach, sql_cluster, tmp_path)).stdout.rstrip("\n")
    updated = ok(
        run_command(attach, sql_cluster, tmp_path, script="update", PULUMI_COMMAND_STDOUT=created)
    )
    assert postgres.attached_url(updated.stdout) == postgres.attached_url(created)
    assert sum(a[:2] == ["postgres", "attach"] for a in argvs(sql_cluster)) == 1
    assert created not in updated.stderr


def test_attach_update_without_the_user_says_to_replace(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    done = failed(run_command(attach, sql_cluster, tmp_path, script="update"))
    assert "pulumi up --replace" in done.stderr


def test_attach_clears_a_scratch_secret_left_behind(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    sql_cluster.seed_app(APP, WEBHOST_ATTACH_DATABASE_URL="postgres://left:over@x/y")
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    assert sql_cluster.secrets(APP) == {}


def test_attach_output_without_the_url_is_an_error_that_leaks_nothing() -> None:
    with pytest.raises(ValueError, match="printed no WEBHOST_ATTACH_DATABASE_URL") as caught:
        postgres.attached_url("Error: something\n  password=hunter2\n")
    assert "hunter2" not in str(caught.value)


def test_detach_removes_this_stacks_attachment_by_name(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    other = {"app": APP, "database": "reports", "user": "reports", "var": "REPORTS_URL"}
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["attachments"].insert(0, other))
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["users"].update(reports="x"))
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path, script="delete"))
    state = sql_cluster.cluster(CLUSTER)
    assert state["attachments"] == [other]  # the one listed first stays
    assert "webhost_prod" not in state["users"] and "reports" in state["users"]
    assert "webhost_prod" in state["databases"]  # the data stays
    assert "Detach completed successfully!" in done.stderr
    # Again: flyctl offers only the other attachment, which is left (answered with Ctrl-C
    # once flyctl is quiet: survey keeps prompting when no option matches).
    again = commands["webhost-db-attach"]
    ok(run_command(again, sql_cluster, tmp_path, script="delete", WEBHOST_DETACH_QUIET="0.3"))
    assert sql_cluster.cluster(CLUSTER)["attachments"] == [other]


def test_attach_cut_off_twice_leaves_one_attachment(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    for _ in range(2):
        failed(run_command(attach, sql_cluster, tmp_path, FAKE_FLY_HALF="postgres attach"))
    assert len(sql_cluster.cluster(CLUSTER)["attachments"]) == 1  # the re-run detached it
    ok(run_command(attach, sql_cluster, tmp_path))
    assert [x["user"] for x in sql_cluster.cluster(CLUSTER)["attachments"]] == ["webhost_prod"]


def test_attach_leaves_another_users_attachment_alone(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    other = {"app": APP, "database": "reports", "user": "reports", "var": "REPORTS_URL"}
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["attachments"].append(other))
    attach = commands["webhost-db-attach"]
    ok(run_command(attach, sql_cluster, tmp_path, WEBHOST_DETACH_QUIET="0.3"))
    state = sql_cluster.cluster(CLUSTER)
    assert [x["user"] for x in state["attachments"]] == ["reports", "webhost_prod"]


@pytest.mark.parametrize("cooked", ["", "1"], ids=["survey-raw", "before-raw-mode"])
def test_a_left_attachment_is_answered_with_ctrl_c_even_with_interrupts_ignored(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, cooked: str
) -> None:
    """Started with SIGINT ignored (a background command of a non-interactive shell: how
    `make test` ran when these hung for 120 s), the Ctrl-C still ends the prompt: as
    the key survey reads in raw mode, and as the terminal's SIGINT when it lands before
    survey's raw mode ($FAKE_FLY_PROMPT_COOKED), which lib.sh restores for flyctl."""
    other = {"app": APP, "database": "reports", "user": "reports", "var": "REPORTS_URL"}
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["attachments"].append(other))
    done = run_command(
        commands["webhost-db-attach"],
        sql_cluster,
        tmp_path,
        interrupts_ignored=True,
        WEBHOST_DETACH_QUIET="0.3",
        FAKE_FLY_PROMPT_COOKED=cooked,
    )
    ok(done)
    users = [x["user"] for x in sql_cluster.cluster(CLUSTER)["attachments"]]
    assert users == ["reports", "webhost_prod"]


def test_attach_stops_when_the_detach_of_a_left_attachment_fails(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    failed(run_command(attach, sql_cluster, tmp_path, FAKE_FLY_HALF="postgres attach"))
    done = failed(run_command(attach, sql_cluster, tmp_path, FAKE_FLY_FAIL="postgres detach"))
    assert "fly postgres detach failed" in done.stderr
    assert len(sql_cluster.cluster(CLUSTER)["attachments"]) == 1
    assert not [a for a in argvs(sql_cluster) if a[:2] == ["postgres", "attach"]][1:]


def test_detach_fails_while_the_user_is_still_there(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    attach = commands["webhost-db-attach"]
    failed(
        run_command(attach, sql_cluster, tmp_path, script="delete", FAKE_FLY_FAIL="postgres detach")
    )
    assert "webhost_prod" in sql_cluster.cluster(CLUSTER)["users"]
