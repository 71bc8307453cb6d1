"""Mutants of one Python module: small changes to its syntax tree that a test should notice.

The operators are the usual ones (as in mutmut or cosmic-ray): a comparison turned
into its neighbour (``<`` into ``<=``, ``==`` into ``!=``, ``in`` into ``not in``),
``and`` into ``or``, a ``not`` dropped, an arithmetic or bitwise operator swapped,
a number increased by one, a string or bytes literal (the text of an f-string too)
wrapped in ``XX``, ``True`` and ``False`` swapped, ``break`` and ``continue``
swapped, a method or builtin swapped for its mirror image (``partition`` for
``rpartition``, ``startswith`` for ``endswith``, ``min`` for ``max``...).

Left alone: docstrings, annotations, ``__all__`` and format specs (``{x:.1f}``).

Mutants are numbered in the order a depth-first walk of the tree meets them, so the
same source always gives the same numbering; ``mutated_tree`` rebuilds mutant N.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

_COMPARISONS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE,),
    ast.LtE: (ast.Lt,),
    ast.Gt: (ast.GtE,),
    ast.GtE: (ast.Gt,),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
# Methods that have a mirror image: calling the other one is a plausible slip.
_METHODS = {
    "lower": "upper",
    "upper": "lower",
    "lstrip": "rstrip",
    "rstrip": "lstrip",
    "partition": "rpartition",
    "rpartition": "partition",
    "split": "rsplit",
    "rsplit": "split",
    "find": "rfind",
    "rfind": "find",
    "index": "rindex",
    "rindex": "index",
    "ljust": "rjust",
    "rjust": "ljust",
    "startswith": "endswith",
    "endswith": "startswith",
    "removeprefix": "removesuffix",
    "removesuffix": "removeprefix",
    "min": "max",
    "max": "min",
}


@dataclass(frozen=True)
class Mutant:
    """One change: where it is and what it does, as source text before and after."""

    index: int
    line: int
    end_line: int
    function: str  # the enclosing function's qualified name, "<module>" at module level
    original: str
    mutated: str
    # False when the change takes effect without its line running in the test that needs
    # it: at import (constants, defaults, decorators), or in a cached function (computed
    # once, by whichever test came first)
    in_function: bool
    occurrence: int = 1  # the same change in the same function met before, plus one

    @property
    def change(self) -> str:
        return f"{self.original} -> {self.mutated}"


def find_mutants(source: str) -> list[Mutant]:
    """Every mutant of ``source``, in their stable order."""
    walker = _Walker(target=None)
    walker.visit(ast.parse(source))
    seen: dict[tuple[str, str], int] = {}
    numbered = []
    for mutant in walker.found:
        key = (mutant.function, mutant.change)
        seen[key] = seen.get(key, 0) + 1
        numbered.append(replace(mutant, occurrence=seen[key]))
    return numbered


def mutated_tree(source: str, index: int) -> ast.Module:
    """The syntax tree of ``source`` with mutant ``index`` applied (line numbers kept)."""
    walker = _Walker(target=index)
    tree = walker.visit(ast.parse(source))
    if not walker.applied:
        raise IndexError(f"no mutant {index} in this source ({walker.count} mutants)")
    assert isinstance(tree, ast.Module)
    return ast.fix_missing_locations(tree)


_CACHING = frozenset({"cache", "lru_cache", "cached_property"})


def _decorator_name(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")


def _shown(node: ast.AST) -> str:
    return " ".join(ast.unparse(node).split())


class _Walker(ast.NodeTransformer):
    """Counts mutation points in a fixed order; applies the one numbered ``target``."""

    def __init__(self, target: int | None) -> None:
        self.target = target
        self.count = 0
        self.applied = False
        self.found: list[Mutant] = []
        self._scopes: list[str] = []
        self._functions = 0
        self._cached = 0

    # ----------------------------------------------------------- mutation points
    def _offer(
        self,
        node: ast.AST,
        make: Callable[[], ast.AST],
        shown: tuple[str, str] | None = None,
    ) -> ast.AST | None:
        """Mutation point: ``make`` builds the replacement of ``node``; None if not applied.

        ``shown`` is the change as printed, when the whole expression would hide it.
        """
        index = self.count
        self.count += 1
        if self.target is None:
            original, mutated = shown or (_shown(node), _shown(make()))
            line: int = getattr(node, "lineno", 0)
            end_line: int = getattr(node, "end_lineno", None) or line
            self.found.append(
                Mutant(
                    index=index,
                    line=line,
                    end_line=end_line,
                    function=".".join(self._scopes) or "<module>",
                    original=original,
                    mutated=mutated,
                    in_function=self._functions > 0 and not self._cached,
                )
            )
            return None
        if index != self.target:
            return None
        self.applied = True
        return ast.copy_location(make(), node)

    # ----------------------------------------------------------- scopes and skips
    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._statements(node.body)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.bases = [self.visit(b) for b in node.bases]
        node.keywords = [self.visit(k) for k in node.keywords]
        self._scopes.append(node.name)
        node.body = self._statements(node.body)
        self._scopes.pop()
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        # Defaults are evaluated at import, in the enclosing scope; annotations are not code.
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [
            None if d is None else self.visit(d) for d in node.args.kw_defaults
        ]
        cached = any(_decorator_name(d) in _CACHING for d in node.decorator_list)
        self._scopes.append(node.name)
        self._functions += 1
        self._cached += cached
        node.body = self._statements(node.body)
        self._cached -= cached
        self._functions -= 1
        self._scopes.pop()
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        self._functions += 1
        node.body = self.visit(node.body)
        self._functions -= 1
        return node

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        result: list[ast.stmt] = []
        for statement in body:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                result.append(statement)  # a docstring or a bare string: not code
                continue
            visited = self.visit(statement)
            result.extend(visited if isinstance(visited, list) else [visited])
        return result

    def generic_visit(self, node: ast.AST) -> ast.AST:
        # As NodeTransformer's, but lists of statements go through _statements.
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    setattr(node, name, self._statements(value))
                else:
                    setattr(
                        node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value]
                    )
            elif isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return node
        return self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        for position, part in enumerate(node.values):
            if isinstance(part, ast.FormattedValue):
                part.value = self.visit(part.value)
                continue
            if not isinstance(part, ast.Constant) or not isinstance(part.value, str):
                continue

            def make(position: int = position, text: str = part.value) -> ast.AST:
                values = list(node.values)
                values[position] = ast.Constant(value=f"XX{text}XX")
                return ast.JoinedStr(values=values)

            shown = (f"f{part.value!r}", f"f{'XX' + part.value + 'XX'!r}")
            mutated = self._offer(node, make, shown)
            if mutated is not None:
                return mutated
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        function = node.func
        name = (
            function.attr
            if isinstance(function, ast.Attribute)
            else function.id
            if isinstance(function, ast.Name) and function.id in ("min", "max")
            else None
        )
        mirror = _METHODS.get(name or "")
        if mirror is not None:
            renamed: ast.expr = (
                ast.Attribute(value=function.value, attr=mirror, ctx=ast.Load())
                if isinstance(function, ast.Attribute)
                else ast.Name(id=mirror, ctx=ast.Load())
            )

            def make() -> ast.AST:
                return ast.Call(func=renamed, args=node.args, keywords=node.keywords)

            mutated = self._offer(node, make, (_shown(function), _shown(renamed)))
            if mutated is not None:
                return mutated
        return self.generic_visit(node)

    # ----------------------------------------------------------- operators
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        for position, operator in enumerate(node.ops):
            for replacement in _COMPARISONS.get(type(operator), ()):

                def make(position: int = position, replacement: type = replacement) -> ast.AST:
                    ops = list(node.ops)
                    ops[position] = replacement()
                    return ast.Compare(left=node.left, ops=ops, comparators=node.comparators)

                mutated = self._offer(node, make)
                if mutated is not None:
                    return mutated
        return self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        mutated = self._offer(node, lambda: ast.BoolOp(op=other(), values=node.values))
        return mutated if mutated is not None else self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if isinstance(node.op, ast.Not):
            mutated = self._offer(node, lambda: node.operand)
            if mutated is not None:
                return mutated
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        replacement = _ARITHMETIC.get(type(node.op))
        if replacement is not None:
            mutated = self._offer(
                node, lambda: ast.BinOp(left=node.left, op=replacement(), right=node.right)
            )
            if mutated is not None:
                return mutated
        return self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        replacement = _ARITHMETIC.get(type(node.op))
        if replacement is not None:
            mutated = self._offer(
                node,
                lambda: ast.AugAssign(target=node.target, op=replacement(), value=node.value),
            )
            if mutated is not None:
                return mutated
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        new: Any
        if isinstance(value, bool):
            new = not value
        elif isinstance(value, int | float):
            new = value + 1
        elif isinstance(value, str):
            new = f"XX{value}XX"
        elif isinstance(value, bytes):
            new = b"XX" + value + b"XX"
        else:
            return node
        mutated = self._offer(node, lambda: ast.Constant(value=new))
        return mutated if mutated is not None else node

    def visit_Break(self, node: ast.Break) -> ast.AST:
        mutated = self._offer(node, ast.Continue)
        return mutated if mutated is not None else node

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        mutated = self._offer(node, ast.Break)
        return mutated if mutated is not None else node
