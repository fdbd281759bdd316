"""Serve the fake as a provider plugin: `python -m fakegrafana <engine address> [flags]`."""

from fakegrafana.server import main

main()
