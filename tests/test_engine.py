"""The offline engine evaluates the program again and again in one process (the suite,
`diff`): nothing one evaluation leaves behind may change the next."""

from __future__ import annotations

import pickle
from typing import Any

from pulumi.dynamic import CreateResult, Resource, ResourceProvider

from cli import engine


class _Provider(ResourceProvider):
    def create(self, props: Any) -> CreateResult:
        return CreateResult("id", props)


class _Thing(Resource, module="test", name="Thing"):
    def __init__(self, name: str) -> None:
        super().__init__(_Provider(), name, {"value": name})


def _program() -> None:
    for i in range(3):
        _Thing(f"thing-{i}")


def _evaluate() -> engine.Evaluation:
    return engine.evaluate(_program, project="p", stack="s", config={}, preview=False)


def test_an_evaluation_leaves_the_pickler_as_it_found_it() -> None:
    pickler: Any = pickle._Pickler
    before = (pickler._batch_setitems, pickler.save_dict)
    evaluation = _evaluate()
    assert len(evaluation.by_type("pulumi-python:dynamic/test:Thing")) == 3
    # The SDK's serializer wraps these once per dynamic resource; left in place, the
    # wrappers stack across evaluations until pickling overflows the recursion limit
    # (seen as a hang of the whole suite after about a thousand).
    assert (pickler._batch_setitems, pickler.save_dict) == before
