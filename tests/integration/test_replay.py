"""Replays of recorded executions (tests/fixtures/histories) and generated MockConfigFiles."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from photoflow.keys import new_photo_id
from photoflow_local import mocks, patches
from photoflow_local.history import build_timeline
from photoflow_local.replay import Recording, ReplayError, replay, wait_for_execution
from photoflow_local.stack import LocalStack
from tests.photos import make_photo
from tests.support import EVENTS, ROOT, load_event, photoflow

HISTORIES = ROOT / "tests" / "fixtures" / "histories"
PHOTOS = EVENTS / "photos"


def recording(name: str) -> Recording:
    return Recording.load(HISTORIES / f"{name}.history.json", HISTORIES / f"{name}.describe.json")


def history_document(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HISTORIES / f"{name}.history.json").read_text())
    return loaded


@pytest.mark.parametrize("name", ["completed", "corrupt", "retried"])
def test_recorded_histories_replay_identically_from_their_results(
    local_stack: LocalStack, name: str
) -> None:
    result = replay(recording(name), local_stack, "recorded")
    assert result.identical, [d.describe() for d in result.differences]
    assert [s.name for s in result.replayed.states if s.parent is None] == [
        s.name for s in result.recorded.states if s.parent is None
    ]
    assert result.warnings == []


def test_the_retried_recording_replays_its_retries(local_stack: LocalStack) -> None:
    result = replay(recording("retried"), local_stack, "recorded")
    attempts = {s.name: s.attempts for s in result.replayed.states}
    assert attempts["ExtractMetadata"] == 3
    assert [
        e for e, _ in next(s for s in result.replayed.states if s.name == "ExtractMetadata").errors
    ] == [
        "Lambda.ServiceException",
        "Lambda.ServiceException",
    ]


@pytest.mark.parametrize(
    ("name", "photo"), [("completed", "harbour.jpg"), ("corrupt", "corrupt.jpg")]
)
def test_recorded_histories_replay_identically_live(
    local_stack: LocalStack, name: str, photo: str
) -> None:
    result = replay(recording(name), local_stack, "live", photo=PHOTOS / photo)
    assert result.identical, [d.describe() for d in result.differences]


def test_a_live_replay_reports_the_first_difference(local_stack: LocalStack) -> None:
    # The retried recording's retries were injected; live, the step succeeds at once.
    result = replay(recording("retried"), local_stack, "live")
    assert not result.identical
    first = result.differences[0]
    assert (first.kind, first.state) in {
        ("attempts", "ExtractMetadata"),
        ("path", "ExtractMetadata"),
    }


def test_a_history_edited_to_fail_a_step_replays_down_the_catch_branch(
    local_stack: LocalStack,
) -> None:
    # Given the completed recording, edited so that MakeThumbnails failed with CorruptImage
    document = copy.deepcopy(history_document("completed"))
    timeline = build_timeline(document["events"])
    thumbnails = next(s for s in timeline.states if s.name == "MakeThumbnails")
    for event in document["events"]:
        if (
            event["type"] == "TaskSucceeded"
            and event["id"] > thumbnails.entered_event_id
            and ("MakeThumbnails" in json.dumps(event) or "thumbnails" in json.dumps(event))
        ):
            event["type"] = "TaskFailed"
            event.pop("taskSucceededEventDetails")
            event["taskFailedEventDetails"] = {
                "error": "CorruptImage",
                "cause": json.dumps({"errorMessage": "edited", "errorType": "CorruptImage"}),
            }
            break
    else:
        pytest.fail("no TaskSucceeded of MakeThumbnails in the recording")

    # When it is replayed from its results
    result = replay(Recording.from_documents(document), local_stack, "recorded")

    # Then the execution takes the Catch branch and the comparison says where it forked
    assert result.replayed.status == "FAILED"
    assert result.replayed.path[-3:] == ["RecordFailure", "NotifyFailure", "Failed"]
    assert not result.identical
    assert result.differences[0].state in {"RecordResult", "RecordFailure", "MakeDerivatives"}


def test_a_truncated_input_needs_the_describe_output(local_stack: LocalStack) -> None:
    document = copy.deepcopy(history_document("completed"))
    started = next(e for e in document["events"] if e["type"] == "ExecutionStarted")
    started["executionStartedEventDetails"]["input"] = '{"photo": {"id": "012'
    started["executionStartedEventDetails"]["inputDetails"] = {"truncated": True}
    with pytest.raises(ReplayError, match="truncated"):
        Recording.from_documents(document)
    describe = json.loads((HISTORIES / "completed.describe.json").read_text())
    result = replay(Recording.from_documents(document, describe), local_stack, "recorded")
    assert result.replayed.status == "SUCCEEDED"


def test_a_truncated_task_result_runs_that_state_live(local_stack: LocalStack) -> None:
    document = copy.deepcopy(history_document("completed"))
    timeline = build_timeline(document["events"])
    notify = next(s for s in timeline.states if s.name == "NotifyProcessed")
    for event in document["events"]:
        if event["type"] == "TaskSucceeded" and event["id"] > notify.entered_event_id:
            event["taskSucceededEventDetails"]["outputDetails"] = {"truncated": True}
            break
    result = replay(Recording.from_documents(document), local_stack, "recorded")
    assert result.warnings == [
        "NotifyProcessed: its recorded result is truncated; it runs live in this replay"
    ]
    assert result.replayed.status == "SUCCEEDED"


def test_an_execution_fetched_from_an_endpoint_replays(local_stack: LocalStack, aws: Any) -> None:
    photo_id = new_photo_id()
    aws.s3.put_object(
        Bucket=local_stack.output("PhotosBucketName"),
        Key=f"uploads/{photo_id}/f.jpg",
        Body=make_photo(500, 400),
    )
    arn = poll_execution_arn(local_stack, aws, photo_id)
    wait_for_execution(aws.sfn, arn, 60)
    fetched = Recording.fetch(arn, local_stack.endpoint_url, region="us-east-1")
    assert fetched.input["photo"]["id"] == photo_id
    assert replay(fetched, local_stack, "recorded").identical


def poll_execution_arn(local_stack: LocalStack, aws: Any, photo_id: str) -> str:
    from tests.support import poll

    def find() -> list[str]:
        listed = aws.sfn.list_executions(
            stateMachineArn=local_stack.output("PhotoWorkflowArn"), maxResults=1000
        )
        return [e["executionArn"] for e in listed["executions"] if photo_id in e["name"]]

    [arn] = poll(find, bool, what=f"execution of {photo_id}")
    return arn


def test_a_generated_mock_config_drives_every_test_case_to_its_expected_end(
    local_stack: LocalStack, aws: Any, tmp_path: Path
) -> None:
    # Given a MockConfigFile generated from the template's state machine (checked clean)
    logical_id, definition = mocks.load_definition(ROOT / "template.yaml")
    cases = mocks.generate(definition)
    for case in cases:
        case.name = f"Generated{case.name}"  # apart from statemachine/test/MockConfigFile.json's
    config = mocks.mock_config(definition, logical_id, cases)
    assert mocks.check(config, definition, {logical_id}) == []
    assert {
        "GeneratedHappyPath",
        "GeneratedMakeThumbnailsCaught",
        "GeneratedRecordFailureRetriesExhausted",
    } <= {c.name for c in cases}

    # When each test case runs on the local stack
    machine = local_stack.output("PhotoWorkflowArn")
    outcomes = {}
    for case in cases:
        patches.register_test_case(config, logical_id, case.name)
        event = load_event("step_input.json")
        photo_id = new_photo_id()
        event["photo"].update(id=photo_id, key=f"uploads/{photo_id}/{case.name}.jpg")
        started = aws.sfn.start_execution(
            stateMachineArn=f"{machine}#{case.name}", name=case.name, input=json.dumps(event)
        )
        outcomes[case.name] = (started["executionArn"], case)
    # Then each ends where the generator said it would
    for arn, case in outcomes.values():
        described = wait_for_execution(aws.sfn, arn, 60)
        timeline = build_timeline(
            aws.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        )
        top_level = [s.name for s in timeline.states if s.parent is None]
        assert (described["status"], top_level[-1], described.get("error")) == (
            case.status,
            case.last_state,
            case.error,
        ), case.name


def test_a_history_of_another_state_machine_is_refused_not_compared(
    local_stack: LocalStack,
) -> None:
    # Given a history whose states the photo workflow does not have
    document = json.loads(
        json.dumps(history_document("completed")).replace('"ExtractMetadata"', '"ReadExif"')
    )

    with pytest.raises(ReplayError, match=r"is not an execution of .*: it ran states ReadExif"):
        replay(Recording.from_documents(document), local_stack, "recorded")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not readable JSON"),
        ('{"events": [{"type": "ExecutionStarted"}]}', "not a get-execution-history document"),
        ('["a list"]', "no events"),
    ],
)
def test_a_malformed_history_is_a_one_line_error_with_its_own_exit_status(
    tmp_path: Path, content: str, message: str
) -> None:
    history = tmp_path / "run.history.json"
    history.write_text(content)

    done = photoflow(tmp_path, "replay", str(history))

    # 2: the replay could not run; 1 means the replay found a difference
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot replay:" in done.stdout and message in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


# ---------------------------------------------------------------- redriven histories
@pytest.fixture(scope="module")
def redrive_demo(local_stack: LocalStack) -> str:
    """The state machine of the redriven-parallel recording, on the local stack."""
    definition = history_document("redriven-parallel")["definition"]
    machine: str = local_stack.client("stepfunctions").create_state_machine(
        name=f"RedriveDemo{new_photo_id()[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/redrive-demo",
    )["stateMachineArn"]
    return machine


def test_a_redriven_history_replays_its_redrive(local_stack: LocalStack) -> None:
    # Given the photo workflow failed down its Catch path, then redriven once
    result = replay(recording("redriven"), local_stack, "recorded")

    # Then the replay failed the same way, was redriven, and re-entered the Fail state
    assert result.identical, [d.describe() for d in result.differences]
    assert [(r.count, r.after_status, r.after_error) for r in result.replayed.redrives] == [
        (
            1,
            "FAILED",
            (
                "PhotoFailed",
                "The photo could not be processed;"
                " its record holds the error and its message for people.",
            ),
        )
    ]
    assert [(s.name, s.redrive) for s in result.replayed.states][-2:] == [
        ("Failed", 0),
        ("Failed", 1),
    ]
    described = local_stack.client("stepfunctions").describe_execution(
        executionArn=result.execution_arn
    )
    assert (described["status"], described["redriveCount"]) == ("FAILED", 1)


def test_a_redriven_parallel_replays_only_its_failed_branch_again(
    local_stack: LocalStack, redrive_demo: str
) -> None:
    result = replay(
        Recording.from_documents(history_document("redriven-parallel")),
        local_stack,
        "recorded",
        state_machine=redrive_demo,
    )

    assert result.identical, [d.describe() for d in result.differences]
    assert [(s.name, s.redrive) for s in result.replayed.states if s.parent is None] == [
        ("Derivatives", 0),
        ("Derivatives", 1),
        ("Record", 1),
    ]
    assert [s.name for s in result.replayed.states if s.parent and s.redrive == 1] == ["Thumbnail"]
    assert result.replayed.status == "SUCCEEDED"


def test_a_replay_that_does_not_fail_as_recorded_reports_the_missing_redrive(
    local_stack: LocalStack, redrive_demo: str
) -> None:
    # Given the recording edited so that its first Thumbnail succeeded
    document = copy.deepcopy(history_document("redriven-parallel"))
    failed = next(e for e in document["events"] if e["type"] == "TaskFailed")
    failed["type"] = "TaskSucceeded"
    failed["taskSucceededEventDetails"] = {
        "output": json.dumps({"StatusCode": 200, "Payload": {"key": "first.jpg"}}),
        "outputDetails": {"truncated": False},
    }
    del failed["taskFailedEventDetails"]

    result = replay(
        Recording.from_documents(document), local_stack, "recorded", state_machine=redrive_demo
    )

    # Then the replayed execution succeeded at once, and was not redriven
    assert result.replayed.redrives == []
    assert any(
        d.kind == "redrive"
        and d.recorded == ["FAILED", "StorageUnavailable"]
        and d.replayed is None
        for d in result.differences
    ), [d.describe() for d in result.differences]


def test_a_redrive_after_an_aborted_attempt_cannot_be_replayed(local_stack: LocalStack) -> None:
    document = copy.deepcopy(history_document("redriven"))
    ended = next(e for e in document["events"] if e["type"] == "ExecutionFailed")
    ended["type"] = "ExecutionAborted"
    ended["executionAbortedEventDetails"] = ended.pop("executionFailedEventDetails")

    with pytest.raises(ReplayError, match="followed an attempt that ended ABORTED"):
        replay(Recording.from_documents(document), local_stack, "recorded")


def test_photoflow_replay_reproduces_a_redriven_history(tmp_path: Path) -> None:
    done = photoflow(
        tmp_path,
        "replay",
        str(HISTORIES / "redriven.history.json"),
        "--template",
        str(ROOT / "template.yaml"),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "replayed identically" in done.stdout
    assert "recorded: FAILED   replayed (recorded): FAILED" in done.stdout
