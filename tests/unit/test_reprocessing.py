"""Reprocessing: the ReprocessWorkflow runs the upload's own steps for each photo, and
``photoflow_local.reprocessing`` selects photos, writes the manifest the workflow reads
and reads back what a run did (its ResultWriter files, in the shape AWS writes them)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from photoflow_local import reprocessing
from photoflow_local.reprocessing import NotReprocessed, ReprocessError, Selection
from tests.support import ROOT

PHOTO = json.loads((ROOT / "statemachine" / "photo_workflow.asl.json").read_text())
REPROCESS = json.loads((ROOT / "statemachine" / "reprocess_workflow.asl.json").read_text())
MAP = REPROCESS["States"]["ReprocessPhotos"]
EACH_PHOTO = MAP["ItemProcessor"]["States"]["EachPhoto"]["ItemProcessor"]["States"]
A, B, C = "a" * 32, "b" * 32, "c" * 32
RUN = "arn:aws:states:us-east-1:123456789012:execution:photoflow-dev-reprocess:reprocess-1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:photoflow-dev-reprocess"
MAP_RUN = "arn:aws:states:us-east-1:123456789012:mapRun:photoflow-dev-reprocess/Reprocess:4977ded7"


@pytest.mark.parametrize("state", ["ExtractMetadata", "MakeDerivatives"])
def test_each_photo_goes_through_the_uploads_own_steps_retries_and_catches(state: str) -> None:
    assert EACH_PHOTO[state] == PHOTO["States"][state]


def _set_attributes(update_expression: str) -> set[str]:
    clause = update_expression.split(" REMOVE ", maxsplit=1)[0].removeprefix("SET ")
    return {part.split("=")[0].strip() for part in clause.split(",")}


def test_a_reprocessed_record_holds_what_an_upload_records_and_the_version_that_made_it() -> None:
    upload = _set_attributes(PHOTO["States"]["RecordResult"]["Arguments"]["UpdateExpression"])
    again = _set_attributes(EACH_PHOTO["RecordResult"]["Arguments"]["UpdateExpression"])
    assert upload - again == {"#status", "completedAt"}  # it stays COMPLETED, as it was
    assert again - upload == {"reprocessedAt"}
    assert "configVersion" in upload  # both record the version


def test_the_map_reads_a_manifest_in_batches_with_bounded_concurrency_and_tolerance() -> None:
    assert MAP["ItemReader"]["ReaderConfig"] == {
        "InputType": "CSV",
        "CSVHeaderLocation": "FIRST_ROW",
    }
    assert MAP["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "EXPRESS",
    }
    defaults = {
        field: int(re.findall(r": (\d+) %}$", MAP[field])[0])
        for field in ("MaxConcurrency", "ToleratedFailurePercentage")
    }
    defaults["MaxItemsPerBatch"] = int(
        re.findall(r": (\d+) %}$", MAP["ItemBatcher"]["MaxItemsPerBatch"])[0]
    )
    assert defaults == {
        "MaxConcurrency": reprocessing.MAX_CONCURRENCY,
        "ToleratedFailurePercentage": reprocessing.TOLERATED_FAILURE_PERCENTAGE,
        "MaxItemsPerBatch": reprocessing.BATCH_SIZE,
    }
    assert defaults == {
        "MaxConcurrency": 100,
        "ToleratedFailurePercentage": 5,
        "MaxItemsPerBatch": 10,
    }
    assert MAP["ResultWriter"]["Arguments"]["Prefix"] == "reprocess/results"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{A}\n{B}\n", (A, B)),
        (f"photoId\n{A}\n\n{B}\n{A}\n", (A, B)),
        (f"owner,photoId\nme,{C}\nme,{A}\n", (C, A)),
        (f"  {B}  \r\n", (B,)),
    ],
    ids=["one a line", "a CSV with its header", "the photoId column", "spaces and CRLF"],
)
def test_a_manifest_file_names_photos_one_a_line_or_as_a_csv(
    text: str, expected: tuple[str, ...]
) -> None:
    assert reprocessing.read_manifest(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{A}\nharbour.jpg\n", "line 2: 'harbour.jpg' is not a photo id"),
        ("photoId\n\n", "the manifest names no photo"),
        (f"{A.upper()}\n", f"line 1: '{A.upper()}' is not a photo id"),
    ],
)
def test_a_manifest_line_that_is_not_a_photo_id_is_refused_by_its_number(
    text: str, message: str
) -> None:
    with pytest.raises(ReprocessError) as refused:
        reprocessing.read_manifest(text)
    assert str(refused.value) == message


def test_the_manifest_the_workflow_reads_has_the_header_its_item_reader_expects() -> None:
    assert reprocessing.manifest_csv([A, B]) == f"photoId\n{A}\n{B}\n"


class _Photos:
    def __init__(self) -> None:
        self.asked: list[tuple[str, int | None]] = []

    def completed_ids(self, prefix: str = "", before_version: int | None = None) -> list[str]:
        self.asked.append((prefix, before_version))
        return [C, A]


def test_a_selection_asks_the_table_for_what_it_names_in_order() -> None:
    photos = _Photos()
    assert reprocessing.select(photos, Selection(before_version=3)) == [A, C]  # type: ignore[arg-type]
    assert reprocessing.select(photos, Selection(prefix="0f")) == [A, C]  # type: ignore[arg-type]
    assert reprocessing.select(photos, Selection(photo_ids=(B,))) == [B]  # type: ignore[arg-type]
    assert photos.asked == [("", 3), ("0f", None)]
    with pytest.raises(ReprocessError, match="lowercase hex"):
        reprocessing.select(photos, Selection(prefix="uploads/"))  # type: ignore[arg-type]
    assert Selection(before_version=3).describe() == (
        "every completed photo made before configuration version 3"
    )


class _Bucket:
    def __init__(self, files: dict[str, Any]) -> None:
        self.files = {key: json.dumps(body).encode() for key, body in files.items()}
        self.put: dict[str, bytes] = {}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        assert Bucket == "photos"
        return {"Body": io.BytesIO(self.files[Key])}

    def put_object(self, **request: Any) -> dict[str, Any]:
        self.put[request["Key"]] = request["Body"]
        return {}


def _child(status: str, items: list[str], output: Any = None, **failure: str) -> dict[str, Any]:
    """One child execution as ResultWriter writes it (Input and Output as JSON text)."""
    child = {
        "ExecutionArn": f"{MAP_RUN.replace(':mapRun:', ':express:')}:{len(items)}",
        "Input": json.dumps({"Items": [{"photoId": i} for i in items], "BatchInput": {"run": RUN}}),
        "InputDetails": {"Included": True},
        "Name": "1",
        "Status": status,
        "StartDate": "2026-12-01T16:10:00.000Z",
        "StopDate": "2026-12-01T16:10:03.000Z",
        "StateMachineArn": f"{MACHINE}/Reprocess",
    }
    if output is not None:
        child.update(Output=json.dumps(output), OutputDetails={"Included": True})
    return {**child, **failure}


def test_a_runs_outcomes_are_read_from_its_results_photo_by_photo() -> None:
    prefix = "reprocess/results/4977ded7"
    bucket = _Bucket(
        {
            f"{prefix}/manifest.json": {
                "DestinationBucket": "photos",
                "MapRunArn": MAP_RUN,
                "ResultFiles": {
                    "FAILED": [{"Key": f"{prefix}/FAILED_0.json", "Size": 900}],
                    "PENDING": [],
                    "SUCCEEDED": [{"Key": f"{prefix}/SUCCEEDED_0.json", "Size": 700}],
                },
            },
            f"{prefix}/SUCCEEDED_0.json": [
                _child(
                    "SUCCEEDED",
                    [A, B],
                    [
                        {"photoId": A, "outcome": "reprocessed"},
                        {"photoId": B, "outcome": "skipped"},
                    ],
                )
            ],
            f"{prefix}/FAILED_0.json": [
                _child(
                    "FAILED",
                    [C, A],
                    Error="PhotosNotReprocessed",
                    Cause=json.dumps(
                        [
                            {
                                "photoId": C,
                                "outcome": "failed",
                                "error": "TooManyPixels",
                                "message": "too big",
                            },
                            {"photoId": A, "outcome": "reprocessed"},
                        ]
                    ),
                ),
                _child(
                    "FAILED", [B, C, A], Error="States.Timeout", Cause="The execution timed out"
                ),
            ],
        }
    )
    done = reprocessing.outcomes(bucket, "photos", f"{prefix}/manifest.json")
    assert dict(done.photos) == {"reprocessed": 2, "skipped": 1, "failed": 1, "not finished": 3}
    assert done.failed == [NotReprocessed(C, "TooManyPixels", "too big")]
    assert done.failed_batches == [("States.Timeout", "The execution timed out")]


class _StepFunctions:
    def __init__(self, execution: dict[str, Any], counts: dict[str, int] | None) -> None:
        self.execution, self.counts = execution, counts
        self.started: list[dict[str, Any]] = []

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return self.execution

    def list_map_runs(self, executionArn: str) -> dict[str, Any]:
        if self.counts is None:
            return {"mapRuns": []}
        return {"mapRuns": [{"executionArn": executionArn, "mapRunArn": "arn:map-run"}]}

    def describe_map_run(self, mapRunArn: str) -> dict[str, Any]:
        assert mapRunArn == "arn:map-run"
        return {"itemCounts": self.counts}

    def start_execution(self, **request: Any) -> dict[str, Any]:
        self.started.append(request)
        return {"executionArn": f"{RUN[: RUN.rindex(':')]}:{request['name']}"}


def test_progress_counts_the_map_runs_items_and_finds_its_results_once_it_ended() -> None:
    counts = {
        "pending": 3,
        "running": 10,
        "succeeded": 40,
        "failed": 5,
        "timedOut": 1,
        "aborted": 1,
        "total": 60,
        "resultsWritten": 47,
    }
    sfn = _StepFunctions({"status": "RUNNING"}, counts)
    now = reprocessing.progress(sfn, RUN)
    assert (
        now.status,
        now.total,
        now.succeeded,
        now.failed,
        now.aborted,
        now.pending,
        now.running,
    ) == ("RUNNING", 60, 40, 6, 1, 3, 10)
    assert (now.done, now.finished_items, now.results) == (False, 47, None)
    output = {
        "MapRunArn": "arn:map-run",
        "ResultWriterDetails": {"Bucket": "photos", "Key": "reprocess/results/x/manifest.json"},
    }
    sfn.execution = {"status": "SUCCEEDED", "output": json.dumps(output)}
    assert reprocessing.progress(sfn, RUN).results == (
        "photos",
        "reprocess/results/x/manifest.json",
    )


def test_a_run_before_its_map_run_started_has_nothing_counted() -> None:
    now = reprocessing.progress(_StepFunctions({"status": "RUNNING"}, None), RUN)
    assert (now.total, now.map_run_arn, now.done) == (0, None, False)


def test_a_run_is_started_over_the_manifest_it_writes() -> None:
    sfn, bucket = _StepFunctions({}, None), _Bucket({})
    run = reprocessing.start(
        sfn,
        bucket,
        "arn:sm",
        "photos",
        [A, B],
        batch_size=2,
        max_concurrency=3,
        tolerated_failure_percentage=0,
    )
    [key] = bucket.put
    assert re.fullmatch(r"reprocess/manifests/reprocess-\d{8}T\d{6}Z-[0-9a-f]{8}\.csv", key)
    assert bucket.put[key] == f"photoId\n{A}\n{B}\n".encode()
    [request] = sfn.started
    assert (
        request["stateMachineArn"] == "arn:sm" and f"{request['name']}.csv" == key.rsplit("/", 1)[1]
    )
    assert json.loads(request["input"]) == {
        "manifestKey": key,
        "batchSize": 2,
        "maxConcurrency": 3,
        "toleratedFailurePercentage": 0,
    }
    assert (run.manifest_key, run.photos) == (key, 2)


@pytest.mark.parametrize(
    ("ids", "options", "message"),
    [
        ([], {}, "no photo is selected"),
        ([A], {"batch_size": 0}, "a batch is 1 to 1,000 photos"),
        ([A], {"max_concurrency": 10_001}, "at most 10,000 batches"),
        ([A], {"tolerated_failure_percentage": 101}, "0 to 100"),
    ],
)
def test_a_run_that_cannot_be_run_is_refused_before_anything_is_written(
    ids: list[str], options: dict[str, Any], message: str
) -> None:
    sfn, bucket = _StepFunctions({}, None), _Bucket({})
    with pytest.raises(ReprocessError, match=message):
        reprocessing.start(sfn, bucket, "arn:sm", "photos", ids, **options)
    assert (bucket.put, sfn.started) == ({}, [])
