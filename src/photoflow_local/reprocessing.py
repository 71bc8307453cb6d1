"""Reprocessing stored photos with the ReprocessWorkflow: which photos, the manifest it
reads, how far a run has got and what it did.

A run makes every selected photo again with the configuration deployed now (a size added,
a filter changed, a step fixed). The selection is written as a CSV manifest of photo ids
(header ``photoId``) under ``reprocess/manifests/`` in the photos bucket; the workflow's
Distributed Map reads it, hands the ids out in batches to Express child executions and
writes what each batch did under ``reprocess/results/`` (its ResultWriter). Each photo
goes through the upload's own steps; a photo still processing for its upload, being
deleted, or held by another run is skipped (the workflow's ClaimPhoto state).

The same calls work on AWS (boto3 clients without a local endpoint); docs/reprocessing.md
says what a run costs and how long it takes there.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from photoflow.keys import is_photo_id
from photoflow.photos import PhotoRepository

MANIFEST_PREFIX = "reprocess/manifests/"
RESULTS_PREFIX = "reprocess/results"  # the workflow's ResultWriter Prefix
MANIFEST_HEADER = "photoId"
# What the workflow applies when a run does not say (its ASL's defaults, the same numbers).
BATCH_SIZE = 10
MAX_CONCURRENCY = 100
TOLERATED_FAILURE_PERCENTAGE = 5


class ReprocessError(Exception):
    """A selection or a manifest that cannot be run."""


@dataclass(frozen=True)
class Selection:
    """Which stored photos a run makes again: every COMPLETED one, those whose id starts
    with ``prefix``, those made by a ConfigVersion older than ``before_version``, or the
    ids of a manifest file."""

    prefix: str = ""
    before_version: int | None = None
    photo_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.photo_ids is not None:
            return f"the {len(self.photo_ids)} photos of the manifest"
        parts = ["every completed photo"]
        if self.prefix:
            parts.append(f"whose id starts with {self.prefix!r}")
        if self.before_version is not None:
            parts.append(f"made before configuration version {self.before_version}")
        return " ".join(parts)


def read_manifest(text: str) -> tuple[str, ...]:
    """The photo ids of a manifest file: one per line, or a CSV whose first row names a
    ``photoId`` column. Blank lines and repeated ids are skipped; anything else that is
    not a photo id is refused, with its line number."""
    rows = list(csv.reader(io.StringIO(text)))
    column = 0
    first = next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if first is not None and MANIFEST_HEADER in [c.strip() for c in rows[first]]:
        column = [c.strip() for c in rows[first]].index(MANIFEST_HEADER)
        rows[first] = []
    ids: dict[str, None] = {}
    for number, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue
        value = row[column].strip() if column < len(row) else ""
        if not is_photo_id(value):
            raise ReprocessError(f"line {number}: {value or row!r} is not a photo id")
        ids[value] = None
    if not ids:
        raise ReprocessError("the manifest names no photo")
    return tuple(ids)


def select(photos: PhotoRepository, selection: Selection) -> list[str]:
    """The ids a run with ``selection`` reads, in order."""
    if selection.photo_ids is not None:
        return list(selection.photo_ids)
    if selection.prefix and not all(c in "0123456789abcdef" for c in selection.prefix):
        raise ReprocessError(f"a photo id prefix is lowercase hex, not {selection.prefix!r}")
    return sorted(photos.completed_ids(selection.prefix, selection.before_version))


def manifest_csv(photo_ids: Iterable[str]) -> str:
    return "".join(f"{line}\n" for line in (MANIFEST_HEADER, *photo_ids))


@dataclass(frozen=True)
class Run:
    execution_arn: str
    manifest_key: str
    photos: int


def run_name(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"reprocess-{moment}-{uuid.uuid4().hex[:8]}"


def start(
    sfn: Any,
    s3: Any,
    state_machine_arn: str,
    bucket: str,
    photo_ids: list[str],
    *,
    batch_size: int = BATCH_SIZE,
    max_concurrency: int = MAX_CONCURRENCY,
    tolerated_failure_percentage: float = TOLERATED_FAILURE_PERCENTAGE,
) -> Run:
    """Write the manifest of ``photo_ids`` and start a run over it."""
    if not photo_ids:
        raise ReprocessError("no photo is selected: nothing to reprocess")
    if not 1 <= batch_size <= 1000 or not 0 <= max_concurrency <= 10_000:
        raise ReprocessError("a batch is 1 to 1,000 photos; at most 10,000 batches run at once")
    if not 0 <= tolerated_failure_percentage <= 100:
        raise ReprocessError("the tolerated failure percentage is 0 to 100")
    name = run_name()
    key = f"{MANIFEST_PREFIX}{name}.csv"
    s3.put_object(
        Bucket=bucket, Key=key, Body=manifest_csv(photo_ids).encode(), ContentType="text/csv"
    )
    request = {
        "manifestKey": key,
        "batchSize": batch_size,
        "maxConcurrency": max_concurrency,
        "toleratedFailurePercentage": tolerated_failure_percentage,
    }
    arn = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(request)
    )
    return Run(arn["executionArn"], key, len(photo_ids))


@dataclass(frozen=True)
class Progress:
    """A run as Step Functions reports it: the execution, and its map run's item counts."""

    execution_arn: str
    status: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0  # failed or timed out
    aborted: int = 0  # stopped when the run failed or was stopped: a redrive runs them
    pending: int = 0
    running: int = 0
    map_run_arn: str | None = None
    error: str | None = None
    cause: str | None = None
    results: tuple[str, str] | None = None  # (bucket, key) of the results' manifest.json

    @property
    def done(self) -> bool:
        return self.status != "RUNNING"

    @property
    def finished_items(self) -> int:
        return self.succeeded + self.failed + self.aborted


def progress(sfn: Any, execution_arn: str, bucket: str | None = None) -> Progress:
    """The run's status and item counts; once it ended, where its results are: the run's
    output names them, and a failed run's (which has no output) are found in ``bucket``
    under the map run's id, where ResultWriter writes them whatever the outcome."""
    execution = sfn.describe_execution(executionArn=execution_arn)
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    counts: dict[str, int] = {}
    map_run_arn = None
    if runs:
        map_run_arn = runs[0]["mapRunArn"]
        counts = sfn.describe_map_run(mapRunArn=map_run_arn)["itemCounts"]
    results = None
    output = json.loads(execution.get("output") or "null")
    details = output.get("ResultWriterDetails") if isinstance(output, dict) else None
    if isinstance(details, dict):
        results = (str(details["Bucket"]), str(details["Key"]))
    elif bucket and map_run_arn and execution["status"] != "RUNNING":
        results = (bucket, f"{RESULTS_PREFIX}/{map_run_arn.rsplit(':', 1)[1]}/manifest.json")
    return Progress(
        execution_arn=execution_arn,
        status=execution["status"],
        total=counts.get("total", 0),
        succeeded=counts.get("succeeded", 0),
        failed=counts.get("failed", 0) + counts.get("timedOut", 0),
        aborted=counts.get("aborted", 0),
        pending=counts.get("pending", 0),
        running=counts.get("running", 0),
        map_run_arn=map_run_arn,
        error=execution.get("error"),
        cause=execution.get("cause"),
        results=results,
    )


@dataclass(frozen=True)
class NotReprocessed:
    photo_id: str
    error: str
    message: str


@dataclass
class Outcomes:
    """What a finished run did to each photo, read from its results in S3."""

    photos: Counter[str] = field(default_factory=Counter)  # outcome -> photos
    failed: list[NotReprocessed] = field(default_factory=list)  # photos that failed
    failed_batches: list[tuple[str, str]] = field(default_factory=list)  # (error, cause)


def outcomes(s3: Any, bucket: str, manifest_key: str) -> Outcomes:
    """Read a run's results (ResultWriter's manifest.json and the files it lists): the
    outcome of each photo of the batches that succeeded, and of those that failed, each
    photo the batch named as failed with its error and message for people."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    found = Outcomes()
    files = manifest.get("ResultFiles", {})
    for kind in ("SUCCEEDED", "FAILED"):
        for entry in files.get(kind, []):
            body = s3.get_object(Bucket=manifest.get("DestinationBucket", bucket), Key=entry["Key"])
            for child in json.loads(body["Body"].read()):
                _add_child(found, child)
    return found


def _add_child(found: Outcomes, child: dict[str, Any]) -> None:
    if child.get("Status") == "SUCCEEDED":
        for photo in json.loads(child.get("Output") or "[]"):
            found.photos[str(photo.get("outcome"))] += 1
        return
    error, cause = str(child.get("Error") or "States.Failed"), str(child.get("Cause") or "")
    if error == "PhotosNotReprocessed":  # the cause lists every photo of the batch
        for photo in json.loads(cause):
            outcome = str(photo.get("outcome"))
            found.photos[outcome] += 1
            if outcome == "failed":
                found.failed.append(
                    NotReprocessed(
                        photo["photoId"], photo.get("error", ""), photo.get("message", "")
                    )
                )
        return
    found.failed_batches.append((error, cause))
    items = json.loads(child.get("Input") or "{}").get("Items", [])
    found.photos["not finished"] += len(items)
