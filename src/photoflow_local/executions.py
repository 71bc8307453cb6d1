"""Executions as a person names them: a photo id, an execution name or a whole ARN.

A photo's execution is named ``photo-<photoId>-<digest>`` (photoflow.keys.execution_name),
so a photo id, which every upload prints, finds its execution without the ARN.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from photoflow.keys import is_photo_id, photo_id_of_execution
from photoflow_local.execution_logs import NotAnExecutionLog, history_from_logs
from photoflow_local.failures import ExitCode, Failure

LIST_HINT = "`photoflow executions` lists them"
EXPRESS_HINT = (
    "Step Functions keeps nothing of an Express execution: its events are in the state"
    " machine's log group (aws logs filter-log-events; see docs/workflow-types.md)"
)


def express_machines(sfn: Any) -> list[str]:
    """The names of the EXPRESS state machines, whose executions Step Functions does not list."""
    return [
        machine["name"]
        for machine in sfn.list_state_machines()["stateMachines"]
        if machine.get("type") == "EXPRESS"
    ]


def _standard_machines(sfn: Any) -> list[dict[str, Any]]:
    machines: list[dict[str, Any]] = sfn.list_state_machines()["stateMachines"]
    return [machine for machine in machines if machine.get("type") != "EXPRESS"]


def list_executions(sfn: Any, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` executions of each Standard state machine, newest first overall."""
    found = [
        {**execution, "photoId": photo_id_of_execution(execution["name"])}
        for machine in _standard_machines(sfn)
        for execution in sfn.list_executions(
            stateMachineArn=machine["stateMachineArn"], maxResults=limit
        )["executions"]
    ]
    found.sort(key=lambda e: e["startDate"], reverse=True)
    return found


def _all_executions(sfn: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for machine in _standard_machines(sfn):
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=machine["stateMachineArn"]
        )
        found.extend(execution for page in pages for execution in page["executions"])
    found.sort(key=lambda e: e["startDate"], reverse=True)
    return found


def find_execution(sfn: Any, reference: str) -> str:
    """The ARN of the execution ``reference`` names: its ARN, its name, or its photo's id
    (the newest execution of that photo)."""
    reference = reference.strip()
    if reference.startswith("arn:"):
        try:
            sfn.describe_execution(executionArn=reference)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn"):
                raise Failure(f"no execution {reference}", LIST_HINT, ExitCode.NOT_FOUND) from None
            raise
        return reference
    executions = _all_executions(sfn)
    for execution in executions:
        if execution["name"] == reference:
            arn: str = execution["executionArn"]
            return arn
    if is_photo_id(reference):
        for execution in executions:
            if photo_id_of_execution(execution["name"]) == reference:
                arn = execution["executionArn"]
                return arn
        raise Failure(f"photo {reference} has no execution here", LIST_HINT, ExitCode.NOT_FOUND)
    raise Failure(
        f"no execution is named {reference!r}, and it is not a photo id (32 hex digits)",
        LIST_HINT,
        ExitCode.NOT_FOUND,
    )


def is_express_arn(reference: str) -> bool:
    return reference.startswith("arn:") and reference.split(":")[5:6] == ["express"]


def express_history(
    sfn: Any, logs: Any, execution_arn: str, *, need_data: bool = False
) -> list[dict[str, Any]]:
    """An Express execution's history, read back from its state machine's log group (the
    only place it exists; level ALL needed, and execution data for ``need_data``)."""
    prefix, _, rest = execution_arn.partition(":express:")
    machine = rest.split(":")[0]
    configuration = sfn.describe_state_machine(
        stateMachineArn=f"{prefix}:stateMachine:{machine}"
    ).get("loggingConfiguration", {})
    destinations = configuration.get("destinations") or []
    if configuration.get("level", "OFF") == "OFF" or not destinations:
        raise Failure(
            f"{execution_arn} left no history: {machine} logs nothing (level OFF)",
            "log at level ALL (the template's WorkflowLogLevel)",
            ExitCode.NOT_FOUND,
        )
    group_arn = destinations[0]["cloudWatchLogsLogGroup"]["logGroupArn"]
    group = group_arn.split(":log-group:", 1)[1].split(":")[0]
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, filterPattern=f'"{execution_arn}"'
    )
    messages = [event["message"] for page in pages for event in page["events"]]
    if not messages:
        raise Failure(
            f"no event of {execution_arn} in the log group {group}",
            "it may have been logged at level ERROR or FATAL (which keep failures only)",
            ExitCode.NOT_FOUND,
        )
    try:
        _, history = history_from_logs("\n".join(messages), group, need_data=need_data)
    except NotAnExecutionLog as error:
        raise Failure(str(error), code=ExitCode.NOT_FOUND) from None
    events: list[dict[str, Any]] = history["events"]
    return events


def photo_id_for(reference: str) -> str:
    """The photo id ``reference`` names: the id itself, or a photo's execution name or ARN."""
    reference = reference.strip()
    if is_photo_id(reference):
        return reference
    # ...:execution:MACHINE:NAME, or ...:express:MACHINE:NAME:UUID
    parts = reference.split(":")
    express = reference.startswith("arn:") and parts[5:6] == ["express"]
    name = (parts[-2] if express else parts[-1]) if reference.startswith("arn:") else reference
    photo_id = photo_id_of_execution(name)
    if photo_id is None:
        raise Failure(
            f"{reference!r} is not a photo id (32 hex digits), nor the name or ARN of a"
            " photo's execution",
            "`photoflow executions` lists photos and executions",
            ExitCode.NOT_FOUND,
        )
    return photo_id


def started(moment: datetime, now: datetime | None = None) -> str:
    """A start time as a person reads it: local time to the second, the date only if not today."""
    local = moment.astimezone()
    today = (now or datetime.now().astimezone()).date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M:%S")


def took(execution: dict[str, Any]) -> str:
    stop = execution.get("stopDate")
    if stop is None:
        return "running"
    seconds = (stop - execution["startDate"]).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
