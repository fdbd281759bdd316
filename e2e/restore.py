"""The `restore` phase of `make e2e` (prod): a restore under protection, as the README's
"Restoring from a backup" says to do it.

On the prod stack after `up`: rows written into the app's database, a base backup
(`fly postgres backup create`), more rows after it (archived WAL), a target time, and
rows after that. Then, in ONE `up`, two clusters are added beside the first with
`postgres.restores` -- the newest point and the target time -- and the app is pointed
at the first of them with `postgres.active`. Checks: each restore holds exactly the
rows written before its point, the app's DATABASE_URL names the new cluster, the old
cluster is still on Fly with its resources protected in the state, and nothing was
deleted or replaced. Then the retirement, on purpose, in later changes:
`postgres.retired` lets the old cluster and the point-in-time copy go unprotected (the
pack allows it for a retired cluster only), and dropping the copy from the list removes
it from the stack while Fly keeps it (retained).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from typing import Any

from e2e.checks import app_name
from e2e.harness import Skipped, Stack, expect


def _sql(s: Stack, cluster: str, database: str, text: str) -> list[str]:
    """psql on the cluster's primary over `fly ssh console`, as the scripts run it."""
    machines = s.fly()["apps"][cluster]["machines"]
    leader = next(m["id"] for m in machines if m.get("role") == "primary")
    done = subprocess.run(
        [
            "fly", "ssh", "console", "--app", cluster, "--machine", leader, "--command",
            f"psql -X -q -At -v ON_ERROR_STOP=1 -p 5433 -U postgres -d {database}",
        ],
        input=text, env=s.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    expect(done.returncode == 0, f"psql on {cluster} failed", done.stderr)
    return done.stdout.splitlines()


def config_set_all(s: Stack, values: dict[str, str]) -> None:
    """`pulumi config set-all --path --plaintext k=v ...`: several keys in one CLI run."""
    pairs = [arg for key, value in values.items() for arg in ("--plaintext", f"{key}={value}")]
    s.pulumi("config", "set-all", "--path", *pairs)


def _resources(s: Stack) -> dict[str, dict[str, Any]]:
    exported = json.loads(s.pulumi("stack", "export").stdout)
    return {r["urn"].rsplit("::", 1)[-1]: r for r in exported["deployment"]["resources"]}


def phase_restore(s: Stack) -> None:
    if s.name != "prod":
        raise Skipped("the restore is proven on prod")
    app = app_name(s)
    [source] = list(s.fly()["pg"])
    database = app.replace("-", "_")
    latest, pitr = f"{source}-r1", f"{source}-pitr"

    _sql(s, source, database, "CREATE TABLE e2e_orders (id text);\n")
    _sql(s, source, database, "INSERT INTO e2e_orders VALUES ('before-backup');\n")
    s.fly_by_hand("postgres", "backup", "create", "--app", source)
    _sql(s, source, database, "INSERT INTO e2e_orders VALUES ('after-backup');\n")
    target = datetime.now(UTC).isoformat()
    _sql(s, source, database, "INSERT INTO e2e_orders VALUES ('after-target');\n")
    before = _resources(s)
    old_url = s.api.state.secrets[app]["DATABASE_URL"]

    # ONE up: two clusters beside the first, the app moved to the newest point.
    # The stack file's edits in one `config set-all --path` (a CLI start each saved).
    restores = {
        f"webhost:postgres.restores[{i}].{key}": value
        for i, fields in enumerate(
            ({"name": latest, "source": source},
             {"name": pitr, "source": source, "targetTime": target})
        )
        for key, value in fields.items()
    }  # fmt: skip
    config_set_all(s, {**restores, "webhost:postgres.active": latest})
    s.pulumi("up", "--yes", "--skip-preview")
    after = _resources(s)
    # nothing deleted, nothing replaced (a replacement is a new id)
    changed = sorted(n for n, r in before.items() if after.get(n, {}).get("id") != r.get("id"))
    expect(not changed, f"the restore's up deleted or replaced {changed}")

    everything = ["before-backup", "after-backup", "after-target"]
    held = _sql(s, latest, database, "SELECT * FROM e2e_orders;\n")
    expect(held == everything, f"{latest} holds {held}, not {everything}")
    held = _sql(s, pitr, database, "SELECT * FROM e2e_orders;\n")
    expect(held == everything[:2], f"{pitr} (to {target}) holds {held}")
    url = s.api.state.secrets[app]["DATABASE_URL"]
    expect(f"@{latest}.flycast:" in url, "DATABASE_URL does not name the restored cluster")
    expect(url != old_url, "DATABASE_URL did not change")
    expect(source in s.fly()["apps"] and bool(s.fly()["apps"][source]["machines"]),
               f"the old cluster {source} is gone from Fly")  # fmt: skip
    kept = [n for n in before if n.startswith("webhost-db") and after.get(n, {}).get("protect")]
    expect(
        sorted(kept) == sorted(n for n in before if n.startswith("webhost-db")),
        "the old cluster's resources are not all still in the state, protected",
    )
    s.pulumi("preview", "--expect-no-changes")

    # Later, on purpose: retire the old cluster and the point-in-time copy ...
    config_set_all(s, {"webhost:postgres.retired[0]": source, "webhost:postgres.retired[1]": pitr})
    s.pulumi("up", "--yes", "--skip-preview")
    after = _resources(s)
    retired = [n for n in after if n.startswith("webhost-db") and f"-{latest}" not in n]
    expect(bool(retired) and not any(after[n].get("protect") for n in retired),
               "retired clusters' resources are still protected")  # fmt: skip
    expect(all(after[n].get("protect") for n in after if f"-{latest}" in n),
               f"the active cluster {latest} lost its protection")  # fmt: skip
    # ... then drop the copy from the stack: Fly keeps it (retained), nothing deleted.
    s.pulumi(
        "config", "rm-all", "--path", "webhost:postgres.restores[1]", "webhost:postgres.retired[1]"
    )
    s.pulumi("up", "--yes", "--skip-preview")
    after = _resources(s)
    expect(not [n for n in after if pitr in n], f"{pitr} is still in the stack")
    expect(pitr in s.fly()["pg"] and source in s.fly()["pg"],
               "a retired cluster was deleted from Fly")  # fmt: skip
    # What the monitor does once archiving runs on the new cluster: a base backup,
    # which the restore drill (workflows phase) restores from.
    s.fly_by_hand("postgres", "backup", "create", "--app", latest)
    print(f"  {s.name:8} restore: {latest} (newest) and {pitr} (to {target}) beside {source}; "
          f"DATABASE_URL on {latest}; {source} retired and kept", flush=True)  # fmt: skip
