"""JSONata as Step Functions evaluates it (photoflow_local.aws_jsonata), without moto."""

from __future__ import annotations

import re

import pytest

from photoflow_local.aws_jsonata import JSONataError, evaluate


def test_standard_jsonata_with_bindings_as_the_interpreter_composes_them() -> None:
    expression = '($states := {"input": {"n": [1, 2, 3]}}; $x := 10; $sum($states.input.n) + $x)'
    assert evaluate(expression) == 16


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$partition([1, 2, 3, 4, 5], 2)", [[1, 2], [3, 4], [5]]),
        ("$partition([0], 3)", [[0]]),
        ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
        ("$range(10, 0, -5)", [10, 5, 0]),
        # A sequence of one value is that value, as AWS answers $range(1, 9, 9).
        ("$range(1, 9, 9)", 1),
        (
            "$hash('abc', 'SHA-256')",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        ("$hash('abc', 'MD5')", "900150983cd24fb0d6963f7d28e17f72"),
        ("$parse('{\"a\": [1, true, null]}')", {"a": [1, True, None]}),
        ("$random(42) = $random(42)", True),
    ],
)
def test_aws_functions(expression: str, expected: object) -> None:
    assert evaluate(expression) == expected


def test_random_and_uuid_are_fresh_each_time() -> None:
    first, second = evaluate("$random()"), evaluate("$random()")
    assert 0 <= first < 1 and 0 <= second < 1 and first != second
    uuid = evaluate("$uuid()")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uuid
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("$eval('1 + 1')", "$eval is not supported"),
        ("$hash('abc', 'SHA-3')", "the algorithm must be one of MD5, SHA-1, SHA-256"),
        ("$parse('not json')", "$parse: not JSON"),
        ("$partition([1], 0)", "chunk size must be a positive integer"),
        ("$nosuchfunction(1)", "T1006"),
    ],
)
def test_what_cannot_be_evaluated_says_why(expression: str, message: str) -> None:
    with pytest.raises(JSONataError, match=re.escape(message)):
        evaluate(expression)
