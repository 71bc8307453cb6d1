"""The mutation tool's own parts: which mutants it makes, and that it makes exactly those."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.mutation.__main__ import EQUIVALENT, load_equivalents
from tests.mutation.mutants import find_mutants, mutated_tree

SOURCE = '''"""A module docstring is not code."""

LIMIT: int = 120
__all__ = ["cut"]


def cut(name: str, keep: int = 10) -> str:
    """Nor is a function's docstring."""
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= keep:
        return f"{stem[:LIMIT - 1]}.{suffix}"
    for _ in range(2):
        break
    return name[:LIMIT] if not name.startswith("x") else b"x".decode()
'''


def test_every_operator_makes_its_mutant_in_a_stable_order() -> None:
    changes = [(m.line, m.function, m.change, m.in_function) for m in find_mutants(SOURCE)]

    assert changes == [
        (3, "<module>", "120 -> 121", False),
        (7, "<module>", "10 -> 11", False),
        (9, "cut", "name.rpartition -> name.partition", True),
        (9, "cut", "'.' -> 'XX.XX'", True),
        (10, "cut", "dot and len(suffix) <= keep -> dot or len(suffix) <= keep", True),
        (10, "cut", "len(suffix) <= keep -> len(suffix) < keep", True),
        (11, "cut", "LIMIT - 1 -> LIMIT + 1", True),
        (11, "cut", "1 -> 2", True),
        (11, "cut", "f'.' -> f'XX.XX'", True),
        (12, "cut", "2 -> 3", True),
        (13, "cut", "break -> continue", True),
        (14, "cut", "not name.startswith('x') -> name.startswith('x')", True),
        (14, "cut", "name.startswith -> name.endswith", True),
        (14, "cut", "'x' -> 'XXxXX'", True),
        (14, "cut", "b'x' -> b'XXxXX'", True),
    ]


def test_a_mutant_changes_its_own_node_and_nothing_else() -> None:
    mutants = find_mutants(SOURCE)
    [weaker] = [m for m in mutants if m.change.startswith("dot and")]

    tree = mutated_tree(SOURCE, weaker.index)

    original = ast.unparse(ast.parse(SOURCE)).splitlines()
    mutated = ast.unparse(tree).splitlines()
    assert [(a, b) for a, b in zip(original, mutated, strict=True) if a != b] == [
        ("    if dot and len(suffix) <= keep:", "    if dot or len(suffix) <= keep:")
    ]
    namespace: dict[str, object] = {}
    exec(compile(tree, "<mutant>", "exec"), namespace)
    assert namespace["cut"]("a." + "x" * 20) == "a." + "x" * 20  # the suffix is now kept


def test_the_same_change_twice_in_a_function_is_numbered() -> None:
    source = "def f(value):\n    return value if 1 <= value else 1\n"

    ones = [m for m in find_mutants(source) if m.change == "1 -> 2"]

    assert [(m.line, m.occurrence) for m in ones] == [(2, 1), (2, 2)]


def test_asking_for_a_mutant_that_does_not_exist_fails() -> None:
    with pytest.raises(IndexError, match="no mutant 15 in this source"):
        mutated_tree(SOURCE, 15)


def test_every_reviewed_equivalent_names_a_core_file_and_gives_a_reason() -> None:
    equivalents = load_equivalents(EQUIVALENT)
    root = Path(__file__).resolve().parents[2]

    assert equivalents, "equivalent.toml lists the reviewed equivalent mutants"
    for entry in equivalents:
        assert (root / entry.module).is_file(), entry
        assert len(entry.reason) > 20, entry
        mutants = find_mutants((root / entry.module).read_text())
        same = [m for m in mutants if (m.function, m.change) == (entry.function, entry.change)]
        # one mutant per entry: the change is unique in its function, or its occurrence named
        assert len(same) == 1 or entry.occurrence in {m.occurrence for m in same}, entry
