"""Per group of conformance cases: how many the local engine passes."""

from __future__ import annotations

from collections import Counter

import pytest

PREFIX = "tests/conformance/test_conformance.py::test_the_local_engine_does_what_aws_recorded["


def _group(nodeid: str) -> str | None:
    if not nodeid.startswith(PREFIX):
        return None
    return nodeid[len(PREFIX) :].split("/", 1)[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, Counter[str]] = {}
    for outcome in ("passed", "failed", "error", "xfailed", "xpassed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            group = _group(getattr(report, "nodeid", ""))
            if group is None or (outcome != "skipped" and report.when != "call"):
                continue
            counts.setdefault(group, Counter())[outcome] += 1
    if not counts:
        return
    total: Counter[str] = Counter()
    for group, outcomes in sorted(counts.items()):
        total.update(outcomes)
        terminalreporter.write_line(f"conformance: {group} {_line(outcomes)}")
    terminalreporter.write_line(f"conformance: all {_line(total)}")


def _line(outcomes: Counter[str]) -> str:
    """Passed of compared, and what was not: known differences (excluded.json, run as
    strict xfails) and recordings that cannot be compared (skipped)."""
    compared = sum(outcomes[o] for o in ("passed", "failed", "error", "xfailed", "xpassed"))
    share = outcomes["passed"] / compared * 100 if compared else 0.0
    notes = []
    if outcomes["xfailed"]:
        notes.append(f"{outcomes['xfailed']} known differences")
    if outcomes["skipped"]:
        notes.append(f"{outcomes['skipped']} not comparable")
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f"{outcomes['passed']}/{compared} = {share:.1f}%{suffix}"
