"""Operations on a running stack: retry a failed photo, send dead letters back.

- :func:`redrive_photo`: a photo whose execution failed for a cause that was not the
  photo's own (a step or service failing past its retries, a crash, a fault in the code)
  is retried with RedriveExecution: the execution resumes at the state that failed, and
  the states that had succeeded (a Parallel branch included) are not run again, so what
  was already done is neither redone nor announced again. It is refused where a redrive
  would change nothing or announce twice: a photo at fault (its failure path ran), a
  COMPLETED photo (announced already), a running or succeeded execution.
- :func:`redrive_dead_letters`: a dead-letter queue's messages go back to the queue they
  came from with SQS's message move task, and the outcome is read back.

The same calls work on AWS (boto3 clients without a local endpoint); the runbook
(docs/runbook.md) gives the AWS CLI equivalents.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import boto3

from photoflow.keys import is_photo_id

REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
# Executions that failed down the failure path: the photo itself was at fault, or the
# failure could not be recorded or announced (the reconciler finished those).
AT_FAULT = "PhotoFailed"


def client(service: str, endpoint_url: str | None, region: str = "us-east-1") -> Any:
    """A client of the local stack at ``endpoint_url`` (its published test identity), or of
    AWS with your own credentials when there is none."""
    if endpoint_url is None:
        return boto3.client(service)
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


class NotRedrivable(Exception):
    """A redrive that would change nothing, or announce a photo twice."""


class NoSuchPhoto(NotRedrivable):
    """No photo has that id."""


@dataclass(frozen=True)
class Redriven:
    photo_id: str
    execution_arn: str
    error: str | None  # what the execution had failed with
    status: str  # the execution's status once the wait is over (RUNNING when not waited for)


def _execution_of(dynamodb: Any, table: str, target: str) -> tuple[str, str, dict[str, Any]]:
    """(photo id, execution ARN, record) of a photo id or an execution ARN."""
    if is_photo_id(target):
        item = dynamodb.get_item(
            TableName=table, Key={"photoId": {"S": target}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NoSuchPhoto(f"no photo {target}")
        if "executionArn" not in item:
            raise NotRedrivable(f"photo {target} has no execution yet ({item['status']['S']})")
        return target, item["executionArn"]["S"], item
    # An execution the ingest started is named photo-<photoId>-<digest>.
    name = target.rsplit(":", 1)[-1].split("-")
    photo_id = name[1] if len(name) > 2 and is_photo_id(name[1]) else ""
    if not photo_id:
        return photo_id, target, {}
    item = dynamodb.get_item(
        TableName=table, Key={"photoId": {"S": photo_id}}, ConsistentRead=True
    ).get("Item")
    return photo_id, target, item or {}


def check_redrivable(execution: dict[str, Any], record: dict[str, Any]) -> None:
    """Refuse a redrive that would change nothing or announce the photo again."""
    status, error = execution["status"], execution.get("error") or ""
    if status not in REDRIVABLE:
        raise NotRedrivable(f"the execution is {status}: only a failed one can be redriven")
    if error.startswith(AT_FAULT):
        raise NotRedrivable(
            f"the execution failed down its failure path ({error}): the photo itself is at"
            " fault, or its failure was recorded and announced by the reconciler; a redrive"
            " would fail the same way"
        )
    if record.get("status", {}).get("S") == "COMPLETED":
        raise NotRedrivable(
            "the photo is COMPLETED and was announced (the execution failed after recording"
            " it): a redrive would announce it again"
        )


def redrive_photo(
    sfn: Any, dynamodb: Any, table: str, target: str, wait_seconds: float = 0.0
) -> Redriven:
    """Redrive the failed execution of a photo (its id, or the execution's ARN)."""
    photo_id, arn, record = _execution_of(dynamodb, table, target)
    if arn.split(":")[5:6] == ["express"]:
        raise NotRedrivable(
            f"{arn} is an Express execution, which Step Functions cannot redrive: upload the"
            " photo again (a new photo id)"
        )
    execution = sfn.describe_execution(executionArn=arn)
    check_redrivable(execution, record)
    sfn.redrive_execution(executionArn=arn)
    status = "RUNNING"
    deadline = time.monotonic() + wait_seconds
    while wait_seconds and time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.2)  # a bounded poll: the deadline ends it
    return Redriven(photo_id, arn, execution.get("error"), status)


@dataclass(frozen=True)
class MoveOutcome:
    status: str
    moved: int
    to_move: int
    failure: str | None = None


def redrive_dead_letters(
    sqs: Any, dead_letter_url: str, destination_arn: str | None = None, wait_seconds: float = 60.0
) -> MoveOutcome:
    """Move a dead-letter queue's messages back (to ``destination_arn``, or each to the queue
    it came from) with a message move task, and wait for its end (bounded)."""
    source_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    request = {"SourceArn": source_arn}
    if destination_arn:
        request["DestinationArn"] = destination_arn
    sqs.start_message_move_task(**request)
    deadline = time.monotonic() + wait_seconds
    while True:
        task = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1)["Results"][0]
        if task["Status"] not in ("RUNNING", "CANCELLING") or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # a bounded poll: the deadline ends it
    return MoveOutcome(
        task["Status"],
        int(task.get("ApproximateNumberOfMessagesMoved", 0)),
        int(task.get("ApproximateNumberOfMessagesToMove", 0)),
        task.get("FailureReason"),
    )
