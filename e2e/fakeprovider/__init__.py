"""What every fake provider plugin of `make e2e` shares (e2e/fake_cloudflare, e2e/fake_grafana).

- `store`: one JSON state file shared by every plugin process, under a lock, and the
  JSON-lines call log (names only, never a value);
- `values`: PropertyValues to plain Python and back, secrets kept, unknowns marked;
- `server`: serving a provider over gRPC as a plugin does, with the SDK's DiffConfig
  bug fixed and a fake's own API errors reaching the engine without a traceback;
- `schema`: a fake's input rules as a table of `Field`s, the walk that checks inputs
  against it (each fake's `Checker` words the failures as its provider does), and
  what of a stored resource Diff compares;
- `provider`: `FakeProvider`, the engine's Check/Diff/Create/Read/Update/Delete
  plumbing over that table and the state file; a fake subclasses it with its
  resources and its schema's check, says what its "cloud" does with each, and
  answers its own invokes;
- `rest`: `RestServer`, a fake's read-only HTTP API over the same state file (the
  reads `webhost-infra preflight` and `recover` make), with injected faults; a fake
  names its routes, its tokens' rules and its wording.

A fake's launcher puts `e2e/` (this package) and its own directory on PYTHONPATH.
"""
