"""Scheduled rules on the local stack: which fire, and how often."""

from __future__ import annotations

import pytest

from photoflow_local.schedules import rate_seconds


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(15 minutes)", 900),
        ("rate(1 minute)", 60),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("cron(0 12 * * ? *)", None),
        ("rate(five minutes)", None),
    ],
)
def test_schedule_rates_in_seconds(expression: str, seconds: float | None) -> None:
    assert rate_seconds(expression) == seconds
