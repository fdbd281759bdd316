"""`fly postgres` (alias `pg`): flyctl internal/command/postgres/, one module per
file there that the scripts reach."""

from __future__ import annotations

from tests.fakes.fly_cli.command.postgres import (
    attach,
    backup,
    config_update,
    connect,
    create,
    detach,
    restart,
    users,
)

HANDLERS = {
    **attach.HANDLERS,
    **backup.HANDLERS,
    **config_update.HANDLERS,
    **connect.HANDLERS,
    **create.HANDLERS,
    **detach.HANDLERS,
    **restart.HANDLERS,
    **users.HANDLERS,
}
