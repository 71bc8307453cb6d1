"""The runbook (docs/runbook.md) has a section for every alarm the template raises (one
section for each kind that every step or every subscriber has), and the commands it gives
exist."""

from __future__ import annotations

import re
from typing import Any

from typer.testing import CliRunner

from photoflow_local.cli import app
from photoflow_local.shape import load_shape
from photoflow_local.template import load_sam
from tests.support import ROOT

RUNBOOK = ROOT / "docs" / "runbook.md"
SHAPE = load_shape(ROOT / "template.yaml")


def _subject(alarm: dict[str, Any]) -> str:
    """The logical id of what an alarm watches (its first dimension's Ref or Fn::GetAtt)."""
    value = alarm["Properties"].get("Dimensions", [{}])[0].get("Value")
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target.split(".")[0] if isinstance(target, str) else target[0])
    return ""


def _group(alarm: dict[str, Any]) -> str | None:
    """The section that covers an alarm of a kind (every step's, every subscriber's)."""
    subject, metric = _subject(alarm), alarm["Properties"]["MetricName"]
    if subject in SHAPE.step_functions and metric in ("Errors", "Throttles"):
        return f"Each workflow step's {metric}Alarm"
    subscribers = {s.queue_dead_letter for s in SHAPE.queue_subscribers}
    if subject in subscribers and metric == "ApproximateNumberOfMessagesVisible":
        return "Each subscriber's DeadLetterQueueAlarm"
    return None


def test_every_alarm_has_a_section() -> None:
    alarms = {
        logical_id: resource
        for logical_id, resource in load_sam(ROOT / "template.yaml")["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    headings = re.findall(r"^### (.+)$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE)
    groups = {heading.strip() for heading in headings if heading.startswith("Each ")}
    named = {
        name.strip()
        for heading in headings
        if not heading.startswith("Each ")
        for name in heading.split(",")
    }
    grouped = {logical_id: _group(alarm) for logical_id, alarm in alarms.items()}
    # each alarm of a step or of a subscriber's dead-letter queue in its kind's section ...
    assert (
        {g for g in grouped.values() if g}
        == groups
        == {
            "Each workflow step's ErrorsAlarm",
            "Each workflow step's ThrottlesAlarm",
            "Each subscriber's DeadLetterQueueAlarm",
        }
    )
    assert {"MetadataFunctionErrorsAlarm", "CompletedPhotosDeadLetterQueueAlarm"} <= {
        logical_id for logical_id, group in grouped.items() if group
    }
    # ... and every other alarm in a section of its own (none for an alarm that is gone)
    assert (
        {logical_id for logical_id, group in grouped.items() if not group}
        == named
        == {
            "IngestDeadLetterQueueAlarm",
            "ExecutionEventsDeadLetterQueueAlarm",
            "SubscriptionDeadLetterQueueAlarm",
            "ExecutionsFailedAlarm",
            "ExecutionsTimedOutAlarm",
            "ApiFunctionErrorsAlarm",
            "ApiFunctionThrottlesAlarm",
            "StartWorkflowFunctionErrorsAlarm",
            "StartWorkflowFunctionThrottlesAlarm",
            "ReconcileFunctionErrorsAlarm",
            "ReconcileFunctionThrottlesAlarm",
        }
    )


def test_the_commands_it_gives_exist() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for command in sorted(set(re.findall(r"^photoflow ([a-z-]+)", text, re.MULTILINE))):
        shown = CliRunner().invoke(app, [command, "--help"])
        assert shown.exit_code == 0, (command, shown.output)
