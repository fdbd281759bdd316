"""Every GraphQL document the program sends is valid against flyctl's schema of Fly's API.

Documents are found, not listed: every module under components/ is imported and
each string constant that is a GraphQL operation is checked. A GraphQL operation
written anywhere else (inside a function) fails the test too, so none escapes.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import graphql
import pytest

import components

ROOT = Path(__file__).resolve().parents[1]
# Fly's GraphQL schema as flyctl is generated against it, kept as facts: the types and
# fields the documents use (tools/contracts.py; source and commit in its header).
SCHEMA = Path(__file__).resolve().parent / "contracts" / "fly-graphql.facts.graphql"
OPERATION = re.compile(r"^\s*(query|mutation|subscription)\b\s*[\w$({]")


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(components.__path__, prefix="components."))


def _documents() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, str) and OPERATION.match(value):
                found[f"{name}.{attr}"] = value
    return found


DOCUMENTS = _documents()


@pytest.fixture(scope="module")
def schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA.read_text())


def test_the_documents_are_found() -> None:
    # The Redis provider's six operations, at least: a scan that finds nothing checks nothing.
    redis = {k for k in DOCUMENTS if k.startswith("components.fly.providers.upstash_redis.")}
    assert len(redis) >= 6, sorted(DOCUMENTS)


@pytest.mark.parametrize("where", sorted(DOCUMENTS))
def test_document_is_valid_against_flys_schema(schema: graphql.GraphQLSchema, where: str) -> None:
    errors = graphql.validate(schema, graphql.parse(DOCUMENTS[where]))
    assert [e.message for e in errors] == []


def test_no_graphql_operation_hides_outside_a_module_constant() -> None:
    constants = set(DOCUMENTS.values())
    hidden = []
    for path in sorted((ROOT / "components").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and OPERATION.match(node.value)
                and node.value not in constants
            ):
                hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []


def test_the_facts_hold_only_what_the_documents_use() -> None:
    # Pruning the facts by today's documents changes nothing: a field the program
    # stopped using, or one added by hand, fails here (re-run tools/contracts.py).
    from tools.contracts import graphql_facts

    text = SCHEMA.read_text()
    origin = text.splitlines()[1].removeprefix("#").strip()
    assert origin.startswith("superfly/flyctl gql/schema.graphql @ ")
    assert graphql_facts(text, [DOCUMENTS[k] for k in sorted(DOCUMENTS)], origin) == text


def test_a_field_fly_lacks_is_refused(schema: graphql.GraphQLSchema) -> None:
    document = "query($slug: String!) { organization(slug: $slug) { id billingStatus2 } }"
    errors = graphql.validate(schema, graphql.parse(document))
    assert [e.message for e in errors] == [
        "Cannot query field 'billingStatus2' on type 'Organization'."
    ]
