"""A fake pulumiverse-grafana provider plugin for the e2e run (see ../README.md)."""
