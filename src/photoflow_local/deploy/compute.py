"""IAM roles, Lambda functions and their SQS event sources, state machines."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from photoflow_local.deploy.context import Deployment, Handler
from photoflow_local.deploy.model import EventSourceMapping
from photoflow_local.lambdas import LocalFunction
from photoflow_local.template import LOCAL_CODE_BUCKET


def role(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    iam = ctx.client("iam")
    name = props.get("RoleName") or f"{ctx.stack_name}-{logical_id}"[:64]
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        Path=props.get("Path", "/"),
    )["Role"]
    for policy in props.get("Policies", []):
        # SAM's policy templates omit Version, which AWS tolerates and moto refuses.
        document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
        iam.put_role_policy(
            RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
        )
    ctx.created(logical_id, name, Arn=role["Arn"], RoleId=role["RoleId"])


def function(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    code = props["Code"]
    if code.get("S3Bucket") != LOCAL_CODE_BUCKET:
        raise ValueError(f"{logical_id}: only local code (CodeUri to a folder) runs locally")
    code_dir = ctx.template.code_paths[code["S3Key"]]
    name = props.get("FunctionName") or logical_id
    environment = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
    response = ctx.client("lambda").create_function(
        FunctionName=name,
        Runtime=props.get("Runtime", "python3.12"),
        Role=props["Role"],
        Handler=props["Handler"],
        Code={"ZipFile": _zip_folder(code_dir)},
        Environment={"Variables": environment},
        Timeout=int(props.get("Timeout", 3)),
        MemorySize=int(props.get("MemorySize", 128)),
        Description=props.get("Description", ""),
    )
    ctx.stack.functions[name] = LocalFunction(
        name=name,
        code_dir=code_dir,
        handler=props["Handler"],
        environment=environment,
        timeout_seconds=int(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
    )
    ctx.created(logical_id, name, Arn=response["FunctionArn"])


def event_source_mapping(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    source = props["EventSourceArn"]
    if ":sqs:" not in source:
        ctx.stack.not_emulated[logical_id] = f"event source {source}: only SQS is polled locally"
        ctx.created(logical_id, f"{logical_id}-local")
        return
    function_name = str(props["FunctionName"]).rsplit(":", 1)[-1]
    ctx.stack.event_source_mappings.append(
        EventSourceMapping(
            logical_id=logical_id,
            queue_arn=source,
            function_name=function_name,
            batch_size=int(props.get("BatchSize", 10)),
            batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in props.get("FunctionResponseTypes", []),
        )
    )
    ctx.created(logical_id, f"{logical_id}-local")


def state_machine(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    definition = props.get("DefinitionString")
    if definition is None:
        definition = json.dumps(props["Definition"])
    substitutions = props.get("DefinitionSubstitutions", {})
    definition = re.sub(
        r"\$\{(\w+)\}",
        lambda m: str(substitutions[m.group(1)]) if m.group(1) in substitutions else m.group(0),
        definition,
    )
    name = props.get("StateMachineName") or logical_id
    request: dict[str, Any] = {
        "name": name,
        "definition": definition,
        "roleArn": props["RoleArn"],
        "type": props.get("StateMachineType", "STANDARD"),
    }
    if "TracingConfiguration" in props:
        request["tracingConfiguration"] = {
            "enabled": bool(props["TracingConfiguration"].get("Enabled"))
        }
    if "LoggingConfiguration" in props:
        request["loggingConfiguration"] = _logging_configuration(props["LoggingConfiguration"])
    arn = ctx.client("stepfunctions").create_state_machine(**request)["stateMachineArn"]
    ctx.created(logical_id, arn, Arn=arn, Name=name)


def _logging_configuration(logging: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's LoggingConfiguration of a state machine, as the API takes it."""
    configuration: dict[str, Any] = {
        "level": logging.get("Level", "OFF"),
        "includeExecutionData": bool(logging.get("IncludeExecutionData", False)),
    }
    destinations = [
        {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
        for d in logging.get("Destinations", [])
        if "CloudWatchLogsLogGroup" in d
    ]
    if destinations:
        configuration["destinations"] = destinations
    return configuration


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


HANDLERS: dict[str, Handler] = {
    "AWS::IAM::Role": role,
    "AWS::Lambda::Function": function,
    "AWS::Lambda::EventSourceMapping": event_source_mapping,
    "AWS::StepFunctions::StateMachine": state_machine,
}
