"""The fake `fly` executable: `python tests/fakes/fly_cli/__main__.py ARGS...` (this
file, as fly_cli.install writes it for tests/conftest.py and e2e), `python
tests/fakes/fly_cli ARGS...` (this directory) or `python -m tests.fakes.fly_cli`."""

import os
import sys

if not __package__:
    # Run as a path, sys.path[0] is this directory, whose modules must not shadow the
    # standard library's (command/secrets.py is not `secrets`): the repository root,
    # which holds the `tests` package, takes its place.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

from tests.fakes.fly_cli.main import main

sys.exit(main(sys.argv[1:]))
