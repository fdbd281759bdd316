"""A fake pulumi-cloudflare provider plugin for the e2e run (see ../README.md)."""
