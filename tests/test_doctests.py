"""The examples in the package's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ntx_graph

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(ntx_graph.__path__, "ntx_graph.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_some_modules_have_examples() -> None:
    counted = sum(len(doctest.DocTestFinder().find(importlib.import_module(n))) for n in MODULES)
    assert counted >= 5
