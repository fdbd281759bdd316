"""One module per flyctl command group, as flyctl lays them out under
internal/command/<group>/ (superfly/flyctl ad0172f): each holds the handlers of the
group's commands the scripts call, in HANDLERS (command path -> handler). Groups the
scripts never call (ips, certificates, redis, tokens, ...) are not modelled: the
program reaches those through the HTTP API (tests/fakes/fly_api)."""
