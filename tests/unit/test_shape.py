"""The workflow's shape as tests, soak and bench read it from the template and the ASL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from photoflow_local.shape import Step, load_shape, shape_of
from photoflow_local.template import TranslatedTemplate
from tests.support import ROOT


# The current template, pinned by what it holds: a step or a subscriber added later leaves
# these true (and is checked by the tests that iterate over the shape); one removed or
# renamed does not.
def test_the_current_template_holds_these_functions_steps_and_queues() -> None:
    shape = load_shape(ROOT / "template.yaml")

    assert shape.state_machine == "PhotoWorkflow"
    assert {
        "ApiFunction",
        "StartWorkflowFunction",
        "MetadataFunction",
        "ThumbnailFunction",
        "FilterFunction",
        "ReconcileFunction",
    } <= set(shape.functions)
    assert {
        Step("ExtractMetadata", "MetadataFunction"),
        Step("MakeThumbnails", "ThumbnailFunction"),
        Step("ApplyFilters", "FilterFunction"),
    } <= set(shape.steps)
    assert {"ApiFunction", "StartWorkflowFunction", "ReconcileFunction"}.isdisjoint(
        shape.step_functions
    )
    # metadata first; thumbnails and filters side by side, in a later stage
    assert shape.stages[0] == (("MetadataFunction",),)
    assert (("ThumbnailFunction",), ("FilterFunction",)) in shape.stages[1:]
    assert shape.consumers == {
        "StartWorkflowFunction": "IngestQueue",
        "ReconcileFunction": "ExecutionEventsQueue",
    }
    assert {
        "IngestDeadLetterQueue",
        "ExecutionEventsDeadLetterQueue",
        "CompletedPhotosDeadLetterQueue",
        "FailedPhotosDeadLetterQueue",
        "SubscriptionDeadLetterQueue",
    } <= set(shape.dead_letter_queues)
    assert shape.state_of("ThumbnailFunction") == "MakeThumbnails"
    assert shape.function_of("ApplyFilters") == "FilterFunction"
    assert {"ExecutionsFailedAlarm", "MetadataFunctionErrorsAlarm"} <= set(shape.alarms)
    assert {"MarkProcessing", "NotifyProcessed", "MakeThumbnails"} <= set(shape.states)


def test_the_current_template_has_these_queue_subscribers_and_email_ones() -> None:
    shape = load_shape(ROOT / "template.yaml")

    queues = {
        s.subscription: (s.queue, s.queue_dead_letter, s.redrive_queue, s.events)
        for s in shape.queue_subscribers
    }
    assert queues["CompletedPhotosSubscription"] == (
        "CompletedPhotosQueue",
        "CompletedPhotosDeadLetterQueue",
        "SubscriptionDeadLetterQueue",
        ("PhotoProcessed",),
    )
    assert queues["FailedPhotosSubscription"] == (
        "FailedPhotosQueue",
        "FailedPhotosDeadLetterQueue",
        "SubscriptionDeadLetterQueue",
        ("PhotoFailed",),
    )
    assert shape.subscriber_queues["CompletedPhotosQueue"] == ("PhotoProcessed",)
    emails = {s.subscription: s.condition for s in shape.subscribers if s.protocol == "email"}
    assert emails == {
        "FailureEmailSubscription": "HasNotificationEmail",
        "AlarmEmailSubscription": "HasAlarmEmail",
    }


def _task(function_variable: str, next_state: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": f"${{{function_variable}}}"},
    }
    state.update({"Next": next_state} if next_state else {"End": True})
    return state


def _template(tmp_path: Path, definition: dict[str, Any]) -> TranslatedTemplate:
    asl = tmp_path / "workflow.asl.json"
    asl.write_text(json.dumps(definition))
    function = {"Type": "AWS::Lambda::Function", "Properties": {}}
    return TranslatedTemplate(
        resources={
            "A": function,
            "B": function,
            "C": function,
            "D": function,
            "Table": {"Type": "AWS::DynamoDB::Table"},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionSubstitutions": {
                        "AArn": {"Fn::GetAtt": ["A", "Arn"]},
                        "BArn": {"Fn::GetAtt": "B.Arn"},
                        "CArn": {"Fn::GetAtt": ["C", "Arn"]},
                        "DArn": {"Fn::GetAtt": ["D", "Arn"]},
                        "TableName": {"Ref": "Table"},
                    }
                },
            },
        },
        parameters={},
        conditions={},
        outputs={},
        mappings={},
        code_paths={"Machine": asl},
    )


def test_stages_follow_next_and_a_parallel_runs_its_branches_side_by_side(
    tmp_path: Path,
) -> None:
    definition = {
        "StartAt": "Record",
        "States": {
            "Record": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Arguments": {"TableName": "${TableName}"},
                "Next": "First",
            },
            "First": {"Type": "Task", "Resource": "${AArn}", "Next": "Both"},
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Left",
                        "States": {"Left": _task("BArn", "Then"), "Then": _task("CArn")},
                    },
                    {"StartAt": "Right", "States": {"Right": _task("DArn")}},
                ],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }

    shape = shape_of(_template(tmp_path, definition))

    assert shape.steps == (
        Step("First", "A"),
        Step("Left", "B"),
        Step("Then", "C"),
        Step("Right", "D"),
    )
    assert shape.stages == ((("A",),), (("B", "C"), ("D",)))
    assert shape.states == ("Record", "First", "Both", "Left", "Then", "Right", "Done")
    assert shape.functions == ("A", "B", "C", "D")


def test_a_queue_feeding_a_dead_letter_queue_and_a_subscription_are_read(
    tmp_path: Path,
) -> None:
    template = _template(tmp_path, {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    template.resources.update(
        {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Inbox": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dead", "Arn"]}}
                },
            },
            "Dead": {"Type": "AWS::SQS::Queue"},
            "Undelivered": {"Type": "AWS::SQS::Queue"},
            "Sub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "sqs",
                    "Endpoint": {"Fn::GetAtt": ["Inbox", "Arn"]},
                    "FilterPolicy": {"eventType": ["Happened"]},
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["Undelivered", "Arn"]}
                    },
                },
            },
        }
    )

    shape = shape_of(template)

    [subscriber] = shape.queue_subscribers
    assert (subscriber.topic, subscriber.queue, subscriber.queue_dead_letter) == (
        "Topic",
        "Inbox",
        "Dead",
    )
    assert (subscriber.redrive_queue, subscriber.events) == ("Undelivered", ("Happened",))
    assert shape.dead_letter_queues == ("Dead", "Undelivered")
    assert shape.steps == () and shape.stages == ()
