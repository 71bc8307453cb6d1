"""Plain-text tables and the targets' verdicts."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """Columns padded to their widest cell; the first ``left`` columns left-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell).ljust(width) if index < left else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def pairs(rows: Sequence[tuple[str, str]]) -> str:
    """Name and value lines, names padded to the longest."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def notes(lines: Sequence[str], width: int = 100) -> str:
    """Bulleted paragraphs wrapped to ``width`` columns."""
    return "\n".join(
        textwrap.fill(line, width, initial_indent="- ", subsequent_indent="  ") for line in lines
    )


def section(title: str) -> None:
    write(f"\n== {title} ==")


def write(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Target:
    """A measured figure against its limit: ``measured <= limit`` (or ``<``, if ``strict``).

    With ``floor``, the limit is a minimum instead: ``measured >= limit`` (a quality).
    """

    name: str
    measured: float | None  # None: could not be measured here (SKIP)
    limit: float
    unit: str  # "x" for ratios, "ms", "MB", "%", "dB"
    strict: bool = False
    floor: bool = False

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return SKIP
        if self.floor:
            within = self.measured > self.limit if self.strict else self.measured >= self.limit
        else:
            within = self.measured < self.limit if self.strict else self.measured <= self.limit
        return PASS if within else FAIL

    def row(self) -> list[str]:
        comparison = (">" if self.floor else "<") + ("" if self.strict else "=")
        measured = "n/a" if self.measured is None else _amount(self.measured, self.unit)
        return [self.name, measured, f"{comparison} {_amount(self.limit, self.unit)}", self.verdict]


def _amount(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "%":
        return f"{value:.0f}%"
    return f"{value:.1f} {unit}"


def ms(value: float) -> str:
    return f"{value:.1f}"


def usd(value: float) -> str:
    return f"${value:.4f}"
