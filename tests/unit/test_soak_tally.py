"""The soak's verdict: what counts as lost, announced twice, changed after it was terminal,
wrongly accepted, and what a redrive may change (photoflow_local.soak)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from photoflow_local import soak
from photoflow_local.hostile import COMPLETED, Sent
from photoflow_local.shape import Step, Subscriber, WorkflowShape, load_shape
from photoflow_local.soak import (
    Row,
    SoakReport,
    SoakSettings,
    _tally,
    _terminal_view,
    started_by_photo,
)
from tests.support import ROOT


class Heard:
    """What a subscriber received: photo -> event type -> message ids."""

    def __init__(self, received: dict[str, dict[str, set[str]]]) -> None:
        self.received = received
        self.dead_lettered: set[str] = set()
        self.faults = 0
        self.first_seen: dict[str, float] = {}


def record(status: str, completed_at: str = "t1", width: int = 800) -> dict[str, Any]:
    return {
        "status": {"S": status},
        "completedAt": {"S": completed_at},
        "metadata": {"S": f'{{"width": {width}}}'},
    }


def tally(
    sent: list[Sent],
    first: dict[str, dict[str, Any]],
    final: dict[str, dict[str, Any] | None],
    heard: dict[str, dict[str, set[str]]],
    executions: dict[str, int],
    redriven: frozenset[str] = frozenset(),
) -> SoakReport:
    report = SoakReport()
    runs = {photo: [{"name": f"photo-{photo}-x"}] * n for photo, n in executions.items()}
    _tally(
        report,
        sent,
        {p: _terminal_view(item) for p, item in first.items()},
        final,
        {"queue": Heard(heard)},  # type: ignore[dict-item]
        runs,
        set(redriven),
    )
    return report


def test_a_photo_completed_once_and_announced_once_holds() -> None:
    done = record("COMPLETED")
    report = tally(
        [Sent("presigned upload", "p1", "COMPLETED")],
        {"p1": done},
        {"p1": done},
        {"p1": {"PhotoProcessed": {"m1"}}},
        {"p1": 1},
    )
    assert report.rows["presigned upload"] == Row(sent=1, accepted=1, completed=1)
    assert report.ok


def test_two_announcements_two_executions_and_a_later_change_fail_the_run() -> None:
    first = record("COMPLETED", width=900)
    report = tally(
        [Sent("reused", "p1", "COMPLETED"), Sent("reused", "p2", "COMPLETED")],
        {"p1": first, "p2": first},
        {"p1": first, "p2": record("COMPLETED", completed_at="t2", width=800)},
        {"p1": {"PhotoProcessed": {"m1", "m2"}}, "p2": {"PhotoProcessed": {"m3"}}},
        {"p1": 1, "p2": 2},
    )
    row = report.rows["reused"]
    assert (row.announced_twice, row.changed_after_terminal) == (2, 1)
    assert not report.ok


def test_a_photo_never_terminal_or_never_announced_is_lost() -> None:
    report = tally(
        [Sent("direct upload", "p1", "COMPLETED"), Sent("direct upload", "p2", "COMPLETED")],
        {"p2": record("COMPLETED")},
        {"p1": record("PROCESSING"), "p2": record("COMPLETED")},
        {},
        {"p1": 1, "p2": 1},
    )
    assert report.rows["direct upload"].lost == 2
    assert not report.ok


def test_a_grant_that_should_have_been_refused_must_leave_nothing() -> None:
    report = tally(
        [Sent("expired", "p1", "NOT_ACCEPTED"), Sent("expired", "p2", "NOT_ACCEPTED")],
        {},
        {"p1": record("AWAITING_UPLOAD"), "p2": record("COMPLETED")},
        {"p2": {"PhotoProcessed": {"m1"}}},
        {"p2": 1},
    )
    row = report.rows["expired"]
    assert (row.refused_as_expected, row.wrongly_accepted) == (1, 1)
    assert not report.ok


def test_what_the_clients_saw_counts() -> None:
    report = tally(
        [Sent("oversize body", None, "REFUSED", surprises=("HTTP 500",), resets=1)],
        {},
        {},
        {},
        {},
    )
    row = report.rows["oversize body"]
    assert (row.refused_as_expected, row.unexpected_answers, row.resets) == (0, 1, 1)
    assert not report.ok


def test_a_redriven_photo_failed_then_completed_is_announced_once_each_way() -> None:
    # the record as it was once redriven and completed, with its one failure announced before
    done = record("COMPLETED")
    report = tally(
        [Sent("direct upload", "p1", "COMPLETED")],
        {"p1": done},
        {"p1": done},
        {"p1": {"PhotoFailed": {"m1"}, "PhotoProcessed": {"m2"}}},
        {"p1": 1},
        frozenset({"p1"}),
    )
    assert report.rows["direct upload"] == Row(sent=1, accepted=1, completed=1)
    assert report.ok


def test_a_run_that_never_became_quiet_fails() -> None:
    done = record("COMPLETED")
    report = tally(
        [Sent("direct upload", "p1", "COMPLETED")],
        {"p1": done},
        {"p1": done},
        {"p1": {"PhotoProcessed": {"m1"}}},
        {"p1": 1},
    )
    report.not_quiet = 1  # a wait reached its deadline with work still under way
    assert not report.ok


class QuietStack:
    """A stack whose photo "a" is done and "b" never ends, with queues idle and, unless
    told otherwise, no execution running."""

    def __init__(self, running: bool = False) -> None:
        self.running = running

    def photo_item(self, photo_id: str) -> dict[str, Any] | None:
        return record("COMPLETED") if photo_id == "a" else None

    def client(self, _service: str) -> QuietStack:
        return self

    def physical_id(self, name: str) -> str:
        return name

    def output(self, name: str) -> str:
        return name

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        counts = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        return {"Attributes": dict.fromkeys(counts, "0")}

    def list_executions(self, **_: Any) -> dict[str, Any]:
        return {"executions": [{"status": "RUNNING"}] if self.running else []}


def wait(stack: QuietStack, timeout: float, lines: list[str]) -> tuple[list[str], SoakReport]:
    heard = Heard({"a": {"PhotoProcessed": {"m1"}}})
    heard.last_received = 0.0  # type: ignore[attr-defined]
    expected = {p: Sent("direct upload", p, COMPLETED) for p in ("a", "b")}
    report = SoakReport()
    first = soak._wait_until_quiet(
        stack,  # type: ignore[arg-type]
        expected,
        {"queue": heard},  # type: ignore[dict-item]
        SoakSettings(timeout=timeout, progress=lines.append),
        report,
    )
    return list(first), report


def test_a_wait_says_how_far_it_got_and_a_deadline_reached_is_not_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(soak, "PROGRESS_SECONDS", 0.0)  # a line at every look
    lines: list[str] = []

    first, report = wait(QuietStack(running=True), 1.2, lines)

    assert first == ["a"]
    assert report.not_quiet == 1
    assert re.fullmatch(r"\d+ s: 1 of 2 accepted photos terminal, 1 announced", lines[-1])


def test_a_photo_waiting_for_an_operator_ends_the_wait_once_nothing_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "b" is neither terminal nor running (its event dead-lettered): the operations after
    # the wait are what moves it, so the wait ends, quiet, long before its deadline
    monkeypatch.setattr(soak, "QUIET_SECONDS", 0.2)

    first, report = wait(QuietStack(running=False), 30.0, [])

    assert first == ["a"]
    assert report.not_quiet == 0


def test_express_executions_are_counted_by_photo_from_their_started_events() -> None:
    machine = "arn:aws:states:us-east-1:123456789012:express:PhotoWorkflow"
    twice, once = "e55f0f700d924049b841cf1af636c813", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    logged = [
        {"type": "ExecutionStarted", "execution_arn": f"{machine}:photo-{twice}-9a0e84ff:uuid-1"},
        {"type": "PassStateEntered", "execution_arn": f"{machine}:photo-{twice}-9a0e84ff:uuid-1"},
        {"type": "ExecutionStarted", "execution_arn": f"{machine}:photo-{twice}-9a0e84ff:uuid-2"},
        {"type": "ExecutionStarted", "execution_arn": f"{machine}:photo-{once}-17c2aa01:uuid-3"},
    ]

    counted = started_by_photo(logged)

    assert {photo: len(runs) for photo, runs in counted.items()} == {twice: 2, once: 1}


def test_the_soak_faults_the_steps_and_queue_consumers_and_watches_each_queue_subscriber() -> None:
    shape = WorkflowShape(
        state_machine="Flow",
        functions=("Api", "Ingest", "First", "Second"),
        steps=(Step("DoFirst", "First"), Step("DoSecond", "Second")),
        stages=((("First",),), (("Second",),)),
        states=("DoFirst", "DoSecond", "Done"),
        dead_letters={"IngestQueue": "IngestDead", "Inbox": "InboxDead"},
        queues=("IngestQueue", "IngestDead", "Inbox", "InboxDead", "Undelivered"),
        subscribers=(
            Subscriber(
                "ToInbox", "Topic", "sqs", "Inbox", "InboxDead", "Undelivered", ("A",), None
            ),
            Subscriber("ToMail", "Topic", "email", None, None, None, ("A",), "HasMail"),
        ),
        alarms=(),
        consumers={"Ingest": "IngestQueue"},
    )

    assert soak.faulty_functions(shape) == {"First", "Second", "Ingest"}
    assert soak.watched_queues(shape) == {"Inbox": "InboxDead"}
    # and the current template's two queue subscribers are among those watched
    watched = soak.watched_queues(load_shape(ROOT / "template.yaml"))
    assert watched["CompletedPhotosQueue"] == "CompletedPhotosDeadLetterQueue"
    assert watched["FailedPhotosQueue"] == "FailedPhotosDeadLetterQueue"


def test_two_subscribers_of_one_event_each_hearing_it_once_is_not_announced_twice() -> None:
    once, again = (
        Heard({"p1": {"PhotoProcessed": {"m1"}}}),
        Heard({"p1": {"PhotoProcessed": {"m2"}}}),
    )
    twice = Heard({"p1": {"PhotoProcessed": {"m3", "m4"}}})

    assert soak._heard([once, again], "p1") == {"PhotoProcessed": {"m1"}}
    assert soak._heard([once, twice], "p1") == {"PhotoProcessed": {"m3", "m4"}}
    assert soak._heard([once], "p2") == {}
