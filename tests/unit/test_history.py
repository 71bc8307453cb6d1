"""Execution histories as timelines (photoflow_local.history), on recorded fixtures."""

from __future__ import annotations

import json

from photoflow_local.history import Redrive, build_timeline
from tests.support import ROOT

HISTORIES = ROOT / "tests" / "fixtures" / "histories"


def _events(name: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = json.loads(
        (HISTORIES / f"{name}.history.json").read_text(encoding="utf-8")
    )["events"]
    return events


def test_a_redriven_history_is_one_timeline_of_its_attempts() -> None:
    timeline = build_timeline(_events("redriven-parallel"))

    assert timeline.redrives == [
        Redrive(
            count=1,
            position=4,
            after_status="FAILED",
            after_error=("StorageUnavailable", "the bucket did not answer"),
        )
    ]
    assert (timeline.status, timeline.error) == ("SUCCEEDED", None)
    assert [(s.name, s.redrive, s.parent.name if s.parent else None) for s in timeline.states] == [
        ("Derivatives", 0, None),
        ("Settle", 0, "Derivatives"),
        ("Filters", 0, "Derivatives"),
        ("Thumbnail", 0, "Derivatives"),
        ("Derivatives", 1, None),
        ("Thumbnail", 1, "Derivatives"),
        ("Record", 1, None),
    ]
    first, second = timeline.states[3], timeline.states[5]
    assert [o.error for o in first.outcomes] == ["StorageUnavailable"]
    assert first.exited is None  # it failed; the redrive's run is another one
    assert [o.output for o in second.outcomes] == [
        {"StatusCode": 200, "Payload": {"key": "thumbs/256.jpg"}}
    ]
    assert second.output == {"key": "thumbs/256.jpg"}
    assert timeline.states[0].failed and not timeline.states[4].failed


def test_a_history_never_redriven_has_no_redrives() -> None:
    timeline = build_timeline(_events("corrupt"))
    assert timeline.redrives == []
    assert {s.redrive for s in timeline.states} == {0}
