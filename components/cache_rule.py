"""The edge cache rule's expression, in Cloudflare's rules language.

Built here, apart from the Edge, so the config can check its length before anything
is registered (components/config/edge.py imports it; components/edge.py uses it).
"""

from __future__ import annotations

# "The maximum length of a rule expression is 4,096 characters" (developers.cloudflare.com/
# ruleset-engine/rules-language/expressions/, "Maximum rule expression length").
RULE_EXPRESSION_MAX = 4096


def cache_expression(hosts: list[str], paths: list[str]) -> str:
    """Cloudflare rules language: these hosts, and a path under one of these patterns.

    A wildcard host (`*.zone`) is no literal Host header: it is matched with the
    `wildcard` operator, where `*` stands for any characters (developers.cloudflare.com/
    ruleset-engine/rules-language/operators/, case-insensitive, on every plan)."""
    exact = " ".join(f'"{h}"' for h in hosts if not h.startswith("*"))
    host_tests = [f"http.host in {{{exact}}}"] if exact else []
    host_tests += [f'http.host wildcard "{h}"' for h in hosts if h.startswith("*")]
    matches = [
        f'starts_with(http.request.uri.path, "{p.removesuffix("*")}")'
        if p.endswith("*")
        else f'http.request.uri.path eq "{p}"'
        for p in paths
    ]
    return f"({' or '.join(host_tests)}) and ({' or '.join(matches)})"
