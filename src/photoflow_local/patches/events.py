"""EventBridge (patches 6, 12 and 57): Step Functions status-change events (none for Express
executions); scheduled rules."""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import Rule, events_backends
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from photoflow_local.patches.base import replace, state
from photoflow_local.patches.stepfunctions.express import is_express_arn
from photoflow_local.patches.stepfunctions.redrive import execution_lock, redrive_fields

# ----------------------------------------------------------------- 6. status-change events
STATUS_CHANGE = "Step Functions Execution Status Change"


def status_change_detail(execution: Execution) -> dict[str, Any]:
    """The detail of the EventBridge event AWS sends when ``execution`` changes status: its
    fields in the order of an event recorded on AWS (LocalStack's test_base snapshot), the
    redrive fields (23.) included."""

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment is not None else None

    output = execution.output
    redrive = redrive_fields(execution)
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": getattr(execution.exec_status, "value", execution.exec_status),
        "startDate": millis(execution.start_date),
        "stopDate": millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "output": json.dumps(output) if output is not None else None,
        "stateMachineVersionArn": None,
        "stateMachineAliasArn": None,
        "redriveCount": redrive["redriveCount"],
        "redriveDate": millis(redrive.get("redriveDate")),
        "redriveStatus": redrive["redriveStatus"],
        "redriveStatusReason": redrive.get("redriveStatusReason"),
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
    }


def send_status_change(execution: Execution, detail: dict[str, Any]) -> None:
    events_backends[execution.account_id][execution.region_name].put_events(
        [
            {
                "Source": "aws.states",
                "DetailType": STATUS_CHANGE,
                "Detail": json.dumps(detail),
                "Resources": [execution.exec_arn],
            }
        ]
    )


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    execution = self.execution
    with execution_lock(execution):  # the status and its event agree, whatever redrives it
        state.originals["terminated"](self)
        detail = status_change_detail(execution)
    if is_express_arn(execution.exec_arn):
        return  # 57. AWS sends no status-change event for an Express execution
    send_status_change(execution, detail)


# ----------------------------------------------------------------- 12. scheduled rules
def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return  # fired by its schedule only
    state.originals["send_to_targets"](self, original_event, transform_input)


def install() -> None:
    replace(BaseExecutionWorkerCommunication, "terminated", _terminated)
    replace(Rule, "send_to_targets", _send_to_targets)
