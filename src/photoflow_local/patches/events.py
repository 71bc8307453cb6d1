"""EventBridge (patches 6 and 12): Step Functions status-change events; scheduled rules."""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import Rule, events_backends
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from photoflow_local.patches.base import replace, state

# ----------------------------------------------------------------- 6. status-change events
STATUS_CHANGE = "Step Functions Execution Status Change"


def status_change_detail(execution: Execution) -> dict[str, Any]:
    """The detail of the EventBridge event AWS sends when ``execution`` changes status."""

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment is not None else None

    output = execution.output
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": getattr(execution.exec_status, "value", execution.exec_status),
        "startDate": millis(execution.start_date),
        "stopDate": millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "output": json.dumps(output) if output is not None else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
    }


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    state.originals["terminated"](self)
    execution = self.execution
    events_backends[execution.account_id][execution.region_name].put_events(
        [
            {
                "Source": "aws.states",
                "DetailType": STATUS_CHANGE,
                "Detail": json.dumps(status_change_detail(execution)),
                "Resources": [execution.exec_arn],
            }
        ]
    )


# ----------------------------------------------------------------- 12. scheduled rules
def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return  # fired by its schedule only
    state.originals["send_to_targets"](self, original_event, transform_input)


def install() -> None:
    replace(BaseExecutionWorkerCommunication, "terminated", _terminated)
    replace(Rule, "send_to_targets", _send_to_targets)
