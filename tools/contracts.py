"""Derive the contract facts the tests check against from Fly's own published schemas.

The repository keeps, in its own form, only the facts its contract tests need
(`tests/contracts/`), never a copy of the upstream files:

- `fly-toml.facts.json`: the structure of SchemaStore's fly.toml schema (types,
  enums, patterns, required keys, `additionalProperties`), with every annotation
  (descriptions, titles, examples, defaults, editor hints) dropped.
- `fly-graphql.facts.graphql`: from flyctl's GraphQL schema, only the types, fields
  and arguments the program's documents use, each input type and enum they reach
  whole (validation needs every required input field), descriptions dropped.

A maintainer refreshes them after reading a newer upstream file (the search tool's
`fetch`, or a checkout), naming where it came from:

    .venv/bin/python tools/contracts.py toml PATH/fly.json \
        "SchemaStore/schemastore src/schemas/json/fly.json @ <commit> (<date>)"
    .venv/bin/python tools/contracts.py graphql PATH/schema.graphql \
        "superfly/flyctl gql/schema.graphql @ <commit> (<date>)"
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import graphql
from graphql import language as gl

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "contracts"
TOML_FACTS = OUT / "fly-toml.facts.json"
GRAPHQL_FACTS = OUT / "fly-graphql.facts.graphql"

# JSON Schema keywords that only annotate (draft-07 §10, and editor extensions):
# they say nothing about which documents are valid.
_ANNOTATIONS = {
    "description",
    "markdownDescription",
    "title",
    "examples",
    "default",
    "defaultValue",
    "deprecated",
    "docs",
    "links",
    "enumValues",
    "initKeys",
    "x-taplo",
    "x-taplo-info",
    "$id",
}
# Keywords whose value maps names (of keys, or definitions) to schemas.
_NAME_MAPS = {"properties", "definitions", "patternProperties"}


def toml_facts(schema: Any) -> Any:
    """The schema with every annotation dropped, names under `properties` kept."""
    if isinstance(schema, list):
        return [toml_facts(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            kept[key] = {name: toml_facts(sub) for name, sub in value.items()}
        else:
            kept[key] = toml_facts(value)
    return kept


def _named(type_: Any) -> Any:
    return graphql.get_named_type(type_)


def used_by(schema: graphql.GraphQLSchema, documents: list[str]) -> dict[str, set[str]]:
    """Type name -> the fields the documents select on it (empty: the type is whole)."""
    used: dict[str, set[str]] = defaultdict(set)
    info = graphql.TypeInfo(schema)

    class Collect(graphql.Visitor):
        def enter_field(self, node: gl.FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None:
                used[_named(parent).name].add(node.name.value)
                field = info.get_field_def()
                if field is not None:
                    used.setdefault(_named(field.type).name, set())
                    for arg in field.args.values():
                        used.setdefault(_named(arg.type).name, set())

        def enter_variable_definition(self, node: gl.VariableDefinitionNode, *_: Any) -> None:
            type_ = graphql.type_from_ast(schema, node.type)
            if type_ is not None:
                used.setdefault(_named(type_).name, set())

    for document in documents:
        graphql.visit(graphql.parse(document), graphql.TypeInfoVisitor(info, Collect()))
    for root in (schema.query_type, schema.mutation_type):
        if root is not None:
            used.setdefault(root.name, set())
    # Input types and enums are kept whole: close over what their fields reach.
    pending = list(used)
    while pending:
        type_ = schema.get_type(pending.pop())
        if isinstance(type_, graphql.GraphQLInputObjectType):
            for field in type_.fields.values():
                name = _named(field.type).name
                if name not in used:
                    used[name] = set()
                    pending.append(name)
    return used


def _pruned(definition: Any, fields: set[str]) -> Any:
    """A type definition without descriptions; an output type keeps only `fields`."""
    if isinstance(definition, gl.ObjectTypeDefinitionNode | gl.InterfaceTypeDefinitionNode):
        return replace(
            definition,
            description=None,
            interfaces=(),
            fields=tuple(
                replace(
                    f,
                    description=None,
                    arguments=tuple(replace(a, description=None) for a in f.arguments or ()),
                )
                for f in definition.fields or ()
                if f.name.value in fields
            ),
        )
    if isinstance(definition, gl.InputObjectTypeDefinitionNode):
        return replace(
            definition,
            description=None,
            fields=tuple(replace(f, description=None) for f in definition.fields or ()),
        )
    if isinstance(definition, gl.EnumTypeDefinitionNode):
        return replace(
            definition,
            description=None,
            values=tuple(replace(v, description=None) for v in definition.values or ()),
        )
    return replace(definition, description=None)


def graphql_facts(source: str, documents: list[str], origin: str) -> str:
    schema = graphql.build_schema(source)
    used = used_by(schema, documents)
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    kept: list[gl.DefinitionNode] = []
    for definition in graphql.parse(source).definitions:
        name = getattr(getattr(definition, "name", None), "value", None)
        if isinstance(definition, gl.SchemaDefinitionNode):
            # The schema block may name roots the documents never use (subscriptions).
            roots = tuple(op for op in definition.operation_types if op.type.name.value in used)
            kept.append(replace(definition, operation_types=roots))
        elif name is not None and name in used and name not in builtin:
            kept.append(_pruned(definition, used[name]))
    header = (
        f"# Facts from\n#   {origin}\n"
        "# only the types, fields and arguments that the program's GraphQL documents use\n"
        "# (input types and enums whole), descriptions dropped. Made by tools/contracts.py;\n"
        "# do not edit by hand.\n\n"
    )
    return header + graphql.print_ast(gl.DocumentNode(definitions=tuple(kept))) + "\n"


def program_documents() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from tests.test_graphql_contract import DOCUMENTS  # noqa: PLC0415 (needs ROOT on sys.path)

    return [DOCUMENTS[k] for k in sorted(DOCUMENTS)]


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in {"toml", "graphql"}:
        print(__doc__, file=sys.stderr)
        return 2
    kind, path, origin = argv
    text = Path(path).read_text()
    OUT.mkdir(parents=True, exist_ok=True)
    if kind == "toml":
        facts = toml_facts(json.loads(text))
        facts["$comment"] = (
            f"Facts from {origin}: structure only, annotations dropped. "
            "Made by tools/contracts.py; do not edit by hand."
        )
        TOML_FACTS.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
        print(f"wrote {TOML_FACTS.relative_to(ROOT)}")
    else:
        GRAPHQL_FACTS.write_text(graphql_facts(text, program_documents(), origin))
        print(f"wrote {GRAPHQL_FACTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
