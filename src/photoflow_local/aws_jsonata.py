"""JSONata as Step Functions evaluates it: JSONata 2.0 with AWS's functions, without $eval.

Expressions are evaluated by jsonata-python (a pure-Python port of the reference
implementation), each parsed once, with the state's values bound as variables (moto's
interpreter, unpatched, writes them into the expression's text and parses it anew).
AWS adds six functions (Step Functions developer guide, "Transforming data with
JSONata"): ``$partition``, ``$range``, ``$hash``, ``$random`` (with an optional seed),
``$uuid`` and ``$parse``; ``$eval`` is not available.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from typing import Any

import jsonata
from jsonata.utils import Utils

# $hash's algorithms, by the names AWS accepts.
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


NULL = Utils.NULL_VALUE


class JSONataError(ValueError):
    """An expression that does not evaluate; its message says why, as AWS's cause does."""


def _partition(array: Any, size: Any) -> list[list[Any]]:
    if not isinstance(array, list):
        raise JSONataError("$partition: the first argument must be an array")
    if not isinstance(size, int | float) or size <= 0 or size != math.floor(size):
        raise JSONataError("$partition: the chunk size must be a positive integer")
    step = int(size)
    return [array[i : i + step] for i in range(0, len(array), step)]


def _range(start: Any, end: Any, step: Any) -> list[int | float] | int | float:
    """From ``start`` to ``end`` inclusive, by ``step`` (negative steps count down). A
    JSONata sequence, as on AWS: one value is that value, not an array of one."""
    if not all(isinstance(v, int | float) for v in (start, end, step)) or step == 0:
        raise JSONataError("$range: start, end and a non-zero step must be numbers")
    values: list[int | float] = []
    value = start
    while (step > 0 and value <= end) or (step < 0 and value >= end):
        values.append(value)
        value += step
    return values[0] if len(values) == 1 else values


def _hash(value: Any, algorithm: Any) -> str:
    if not isinstance(value, str):
        raise JSONataError("$hash: the value must be a string")
    name = HASH_ALGORITHMS.get(str(algorithm))
    if name is None:
        raise JSONataError(
            f"$hash: the algorithm must be one of {', '.join(HASH_ALGORITHMS)}, got {algorithm}"
        )
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def _random(*seed: Any) -> float:
    """A number in [0, 1): with a seed, the same number every time."""
    if seed and seed[0] is not None:
        return random.Random(seed[0]).random()
    return random.random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise JSONataError("$parse: the argument must be a string")
    try:
        return json.loads(text)
    except ValueError as error:
        raise JSONataError(f"$parse: not JSON: {error}") from None


def _no_eval(*_: Any) -> Any:
    raise JSONataError("$eval is not supported in Step Functions; use $parse")


AWS_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "random": _random,
    "uuid": _uuid,
    "parse": _parse,
    "eval": _no_eval,
}


@functools.lru_cache(maxsize=4096)
def compiled(expression: str) -> jsonata.Jsonata:
    """``expression`` parsed once, with AWS's functions (an evaluation binds its own values)."""
    try:
        program = jsonata.Jsonata(expression)
    except jsonata.JException as error:
        raise JSONataError(f"{error.error}: {error}") from error
    for name, function in AWS_FUNCTIONS.items():
        program.register_lambda(name, function)
    return program


def evaluate(expression: str, bindings: dict[str, Any] | None = None) -> Any:
    """The value of a JSONata expression, with ``bindings`` as its variables (``{"x": 1}``
    for ``$x``); None when it evaluates to nothing (undefined). Raises JSONataError when
    it cannot be evaluated."""
    # A variable bound to None would be unbound (undefined); JSON's null is jsonata's own.
    bound = {name: NULL if value is None else value for name, value in (bindings or {}).items()}
    try:
        return compiled(expression).evaluate(None, bound)
    except JSONataError:
        raise
    except jsonata.JException as error:
        # As AWS words it: "T1006: Attempted to invoke a non-function".
        raise JSONataError(f"{error.error}: {error}") from error
    except Exception as error:  # a Python error inside an evaluation
        raise JSONataError(str(error)) from error
