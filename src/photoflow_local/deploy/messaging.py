"""SQS queues and their policies, SNS topics and subscriptions, EventBridge rules."""

from __future__ import annotations

import json
from typing import Any

from photoflow_local.deploy.context import Deployment, Handler


def queue(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    name = props.get("QueueName") or f"{ctx.stack_name}-{logical_id}"
    attributes = {
        key: json.dumps(value)
        if isinstance(value, dict)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in props.items()
        if key not in {"QueueName", "Tags"}
    }
    url = ctx.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    ctx.created(logical_id, url, Arn=ctx.arn("sqs", name), QueueName=name, QueueUrl=url)


def queue_policy(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    sqs = ctx.client("sqs")
    for url in props["Queues"]:
        sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
        )
    ctx.created(logical_id, f"{logical_id}-local")


def topic(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    name = props.get("TopicName") or f"{ctx.stack_name}-{logical_id}"
    attributes = {k: str(props[k]) for k in ("DisplayName", "KmsMasterKeyId") if k in props}
    arn = ctx.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
    ctx.created(logical_id, arn, TopicArn=arn, TopicName=name)


def subscription(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    attributes: dict[str, str] = {}
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        if key in props:
            attributes[key] = json.dumps(props[key])
    for key in ("FilterPolicyScope", "RawMessageDelivery"):
        if key in props:
            attributes[key] = (
                str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            )
    arn = ctx.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    ctx.created(logical_id, arn)


def event_rule(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    events = ctx.client("events")
    name = props.get("Name") or f"{ctx.stack_name}-{logical_id}"[:64]
    bus = props.get("EventBusName", "default")
    request: dict[str, Any] = {
        "Name": name,
        "EventBusName": bus,
        "State": props.get("State", "ENABLED"),
    }
    if "EventPattern" in props:
        request["EventPattern"] = json.dumps(props["EventPattern"])
    if "ScheduleExpression" in props:
        request["ScheduleExpression"] = props["ScheduleExpression"]
    if "Description" in props:
        request["Description"] = props["Description"]
    arn = events.put_rule(**request)["RuleArn"]
    targets = [
        {
            k: v
            for k, v in target.items()
            if k in {"Id", "Arn", "Input", "InputPath", "SqsParameters"}
        }
        for target in props.get("Targets", [])
    ]
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    ctx.created(logical_id, name, Arn=arn)


HANDLERS: dict[str, Handler] = {
    "AWS::SQS::Queue": queue,
    "AWS::SQS::QueuePolicy": queue_policy,
    "AWS::SNS::Topic": topic,
    "AWS::SNS::Subscription": subscription,
    "AWS::Events::Rule": event_rule,
}
