"""Serve the fake as a provider plugin: `python -m fakecf <engine address> [flags]`."""

from fakecf.server import main

main()
