#!/usr/bin/env bash
# Continuous backups (barman to Tigris) with the configured retention and full-backup frequency.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
# flyctl ignores the remote exit code of `backup config update` (flyctl
# internal/command/postgres/backup.go runs it with ExecOnLeader, postgres.go
# ExecOnMachine never reads ExitCode): refuse what postgres-flex would refuse
# before asking (internal/flypg/barman_config.go: recovery window ^\d+[dwy]$ and
# at least 1; full-backup frequency a Go duration of at least 1h), and read the
# applied settings back afterwards.
WEBHOST_WINDOW="$WEBHOST_RECOVERY_WINDOW" WEBHOST_FREQUENCY="$WEBHOST_FULL_BACKUP_FREQUENCY" \
  python3 - <<'PY'
import os, re, sys
window, frequency = os.environ["WEBHOST_WINDOW"], os.environ["WEBHOST_FREQUENCY"]
units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
problems = []
found = re.fullmatch(r"(\d+)([dwy])", window)
if not found or int(found.group(1)) < 1:
    problems.append(f"postgres.backups.recoveryWindow = {window}: a whole number of days, weeks "
                    "or years, at least 1 (7d, 2w, 1y)")
parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", frequency)
if "".join(n + u for n, u in parts) != frequency or not parts \
        or sum(float(n) * units[u] for n, u in parts) < 3600:
    problems.append(f"postgres.backups.fullBackupFrequency = {frequency}: a Go duration of at "
                    "least 1h (24h, 12h30m)")
sys.exit("\n".join(problems) or None)
PY

listing="$(fly secrets list --app "$app" --json)"
enabled="$(printf '%s' "$listing" | json_query \
  'any(s["name"] == args[0] for s in data)' "$WEBHOST_BACKUP_SECRET")"
if [ "$enabled" != True ]; then
  # Creates a Tigris bucket and stages the archive settings; the deploy applies them.
  fly postgres backup enable --app "$app" >&2
  fly secrets deploy --app "$app" >&2
fi
fly postgres backup config update --app "$app" \
  --recovery-window "$WEBHOST_RECOVERY_WINDOW" \
  --full-backup-frequency "$WEBHOST_FULL_BACKUP_FREQUENCY" >&2

# `  RecoveryWindow = 14d` lines (postgres-flex cmd/flexctl/backups.go newConfigShow).
shown="$(fly postgres backup config show --app "$app")"
printf '%s\n' "$shown" >&2
window="$(printf '%s\n' "$shown" | sed -n 's/^[[:space:]]*RecoveryWindow = //p')"
frequency="$(printf '%s\n' "$shown" | sed -n 's/^[[:space:]]*FullBackupFrequency = //p')"
if [ "$window" != "$WEBHOST_RECOVERY_WINDOW" ] \
    || [ "$frequency" != "$WEBHOST_FULL_BACKUP_FREQUENCY" ]; then
  echo "backup config of $app did not apply: recovery window '$window' (want" \
    "$WEBHOST_RECOVERY_WINDOW), full backup frequency '$frequency' (want" \
    "$WEBHOST_FULL_BACKUP_FREQUENCY); see flexctl's output above" >&2
  exit 1
fi
