"""`python3` for the flyctl scripts where they run against the fakes (the unit suite and
e2e): the interpreter that `python3` on PATH is, asked once, run with -S.

The scripts run `python3` for every JSON answer and lock (lib.sh json_query,
webhost_lock, detach_user) and need only its standard library, as lib.sh says: with
-S (no site-packages) every run proves it. Each call also skips what a machine's
`python3` may cost on top of the interpreter: a version manager's shim (pyenv's is a
bash script running a dozen processes, ~75 ms here) and site-packages' .pth files
(~25 ms here)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def install(bin_dir: Path) -> bool:
    """Write `bin_dir/python3` running the interpreter `python3` on this process's PATH
    is, with -S. False, and nothing written, when there is no such python3: the scripts
    then fail as they would on such a machine."""
    asked = subprocess.run(
        ["python3", "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=False,
    )
    picked = asked.stdout.strip()
    if asked.returncode != 0 or not picked:
        return False
    wrapper = bin_dir / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{picked}" -S "$@"\n')
    wrapper.chmod(0o755)
    return True
