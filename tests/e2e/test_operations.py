"""Operations, as the runbook has them: retry a photo that failed for a transient cause by
redriving its execution (`photoflow redrive`), and send the ingest dead-letter queue's
messages back with a message move task (`photoflow redrive-dead-letters`)."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from photoflow_local import running
from photoflow_local.stack import LocalStack
from tests.photos import make_photo, truncated_jpeg
from tests.support import (
    QueueWatcher,
    notifications,
    photoflow,
    poll,
    put_upload,
    terminal_record,
)


@pytest.fixture
def workdir(local_stack: LocalStack, tmp_path: Path) -> Iterator[Path]:
    """A folder where the test's local stack runs, as `photoflow up` leaves it: its state
    saved, and its lock held (by this process) for as long as the test runs."""
    state = tmp_path / ".local-stack"
    state.mkdir()
    with (state / running.LOCK_FILE.name).open("a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        saved = running.stack_state(local_stack)
        (state / running.STATE_FILE.name).write_text(json.dumps(saved, default=str))
        yield tmp_path


@pytest.fixture
def faults(local_stack: LocalStack) -> Iterator[dict[str, Any]]:
    """Faults the test turns on and off: a function name and what it fails with."""
    injected: dict[str, Any] = {}
    local_stack.lambdas.fault = lambda name, event: (
        injected["rule"](name) if "rule" in injected else None
    )
    yield injected
    local_stack.lambdas.fault = None


def history(local_stack: LocalStack, arn: str) -> list[dict[str, Any]]:
    sfn = local_stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return [event for page in pages for event in page["events"]]


def scheduled(events: list[dict[str, Any]], function: str) -> int:
    """How often ``function`` was invoked by a lambda:invoke Task."""
    invoked = [
        json.loads(e["taskScheduledEventDetails"]["parameters"]).get("FunctionName", "")
        for e in events
        if e["type"] == "TaskScheduled"
    ]
    return sum(1 for name in invoked if name.endswith(f":{function}"))


def test_a_photo_failed_by_a_transient_cause_is_retried_by_a_redrive(
    local_stack: LocalStack,
    workdir: Path,
    faults: dict[str, Any],
    completed_queue: QueueWatcher,
    failed_queue: QueueWatcher,
) -> None:
    # Given the filter step failing at every attempt (its service down for a while), once
    # the thumbnails of the photo are made
    since = len(local_stack.lambdas.invocations)

    def filters_down(name: str) -> str | None:
        if name != "FilterFunction":
            return None
        poll(
            lambda: [
                i for i in local_stack.lambdas.invocations[since:] if "Thumbnail" in i.function_name
            ],
            bool,
            what="the thumbnails made",
        )
        return "Lambda.ServiceException"

    faults["rule"] = filters_down
    photo_id = put_upload(local_stack, make_photo(640, 480, seed=40), "later.jpg")
    failed = terminal_record(local_stack, photo_id)
    faults.pop("rule")
    # the execution stopped at the state that failed; the reconciler recorded and announced it
    assert (failed["status"]["S"], failed["error"]["S"]) == ("FAILED", "Lambda.ServiceException")
    [[announced]] = notifications(photo_id, {failed_queue: 1})
    assert announced["body"]["error"]["name"] == "Lambda.ServiceException"

    # When the operator redrives it, once the service is back
    redriven = photoflow(workdir, "redrive", photo_id, "--wait", "60")

    # Then the execution resumed where it failed and the photo completed, announced once
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert "SUCCEEDED" in redriven.stdout
    record = terminal_record(local_stack, photo_id)
    assert record["status"]["S"] == "COMPLETED"
    assert not {"error", "message", "cause", "failedAt"} & set(record)
    events = history(local_stack, record["executionArn"]["S"])
    assert [e["type"] for e in events].count("ExecutionRedriven") == 1
    assert scheduled(events, "MetadataFunction") == 1  # succeeded before: not run again
    assert scheduled(events, "ThumbnailFunction") == 1  # its branch had ended: not run again
    # (the PhotoFailed counted above is kept: a second one would make two)
    notifications(photo_id, {completed_queue: 1, failed_queue: 1})


def test_a_redrive_that_would_change_nothing_or_announce_twice_is_refused(
    local_stack: LocalStack, workdir: Path
) -> None:
    # A photo at fault (corrupt): its failure path ran, a redrive would fail the same way
    corrupt = put_upload(local_stack, truncated_jpeg(), "cut.jpg")
    terminal_record(local_stack, corrupt)
    refused = photoflow(workdir, "redrive", corrupt)
    assert refused.returncode == 1
    assert "failure path (PhotoFailed)" in " ".join(refused.stdout.split())
    # A completed photo: nothing to redo
    done = put_upload(local_stack, make_photo(320, 240, seed=41), "done.jpg")
    execution = poll(
        lambda: local_stack.photo_item(done),
        lambda item: item is not None and "executionArn" in item,
        what="an execution",
    )["executionArn"]["S"]
    poll(
        lambda: local_stack.client("stepfunctions").describe_execution(executionArn=execution),
        lambda e: e["status"] == "SUCCEEDED",
        what="the execution ended",
    )
    refused = photoflow(workdir, "redrive", done)
    assert refused.returncode == 1
    assert "the execution is SUCCEEDED" in refused.stdout
    # An id that names no photo: not found (exit status 4), in one line
    missing = photoflow(workdir, "redrive", "0" * 32)
    assert (missing.returncode, missing.stdout) == (
        4,
        f"no photo {'0' * 32}: `photoflow executions` lists them\n",
    )


def test_dead_lettered_uploads_go_back_with_a_message_move_task(
    local_stack: LocalStack,
    workdir: Path,
    faults: dict[str, Any],
    completed_queue: QueueWatcher,
) -> None:
    # Given the ingest failing for every delivery of an upload's event, so SQS dead-letters it
    sqs = local_stack.client("sqs")
    dead_letters = local_stack.output("IngestDeadLetterQueueUrl")

    def waiting() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    before = waiting()
    faults["rule"] = lambda name: "Lambda.ServiceException" if "StartWorkflow" in name else None
    photo_id = put_upload(local_stack, make_photo(320, 240, seed=42), "late.jpg")
    poll(waiting, lambda n: n > before, timeout=60, what="the upload's event dead-lettered")
    faults.pop("rule")

    # When the operator sends the dead letters back
    moved = photoflow(workdir, "redrive-dead-letters")

    # Then they are processed as if on time: the photo completes, announced once
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert moved.stdout.startswith("COMPLETED: ")
    assert terminal_record(local_stack, photo_id)["status"]["S"] == "COMPLETED"
    notifications(photo_id, {completed_queue: 1})
