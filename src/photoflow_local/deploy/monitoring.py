"""CloudWatch Logs log groups and CloudWatch alarms."""

from __future__ import annotations

from typing import Any

from photoflow_local.deploy.context import Deployment, Handler


def log_group(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    logs = ctx.client("logs")
    name = props.get("LogGroupName") or f"/{ctx.stack_name}/{logical_id}"
    logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    ctx.created(logical_id, name, Arn=ctx.arn("logs", f"log-group:{name}:*"))


def alarm(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    name = props.get("AlarmName") or f"{ctx.stack_name}-{logical_id}"
    request = {k: v for k, v in props.items() if k != "AlarmName"}
    request["AlarmName"] = name
    # Parameters reach properties as strings; the API wants numbers.
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in request:
            request[key] = int(request[key])
    if "Threshold" in request:
        request["Threshold"] = float(request["Threshold"])
    ctx.client("cloudwatch").put_metric_alarm(**request)
    ctx.created(logical_id, name, Arn=ctx.arn("cloudwatch", f"alarm:{name}"))


HANDLERS: dict[str, Handler] = {
    "AWS::Logs::LogGroup": log_group,
    "AWS::CloudWatch::Alarm": alarm,
}
