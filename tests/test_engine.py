"""The offline engine evaluates the program again and again in one process (the suite,
`diff`): nothing one evaluation leaves behind may change the next."""

from __future__ import annotations

import gc
import pickle
from typing import Any

import pytest
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


def test_an_evaluation_leaves_nothing_frozen_out_of_the_collector() -> None:
    # engine.frozen_heap keeps the heap alive on entry out of the collector's passes
    # while a program runs; what it froze must be collectable again after, or every
    # evaluation of a long process (the suite, `diff`) would pin its garbage for good.
    seen: list[int] = []

    def program() -> None:
        seen.append(gc.get_freeze_count())
        _program()

    def failing() -> None:
        seen.append(gc.get_freeze_count())
        raise RuntimeError("the program fails")

    assert gc.get_freeze_count() == 0
    engine.evaluate(program, project="p", stack="s", config={}, preview=False)
    assert gc.get_freeze_count() == 0
    with pytest.raises(Exception, match="the program fails"):
        engine.evaluate(failing, project="p", stack="s", config={}, preview=False)
    assert gc.get_freeze_count() == 0
    assert len(seen) == 2 and min(seen) > 0  # frozen while the programs ran


def test_a_nested_freeze_leaves_the_thaw_to_the_outermost() -> None:
    with engine.frozen_heap():
        outer = gc.get_freeze_count()
        with engine.frozen_heap():
            assert gc.get_freeze_count() >= outer
        assert gc.get_freeze_count() >= outer  # the inner block did not thaw the outer's
    assert gc.get_freeze_count() == 0
