"""IAM roles, Lambda functions and their SQS event sources, state machines."""

from __future__ import annotations

import hashlib
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
    ctx.stack.code_fingerprints[name] = code_fingerprint(ctx, props)
    environment = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
    response = ctx.client("lambda").create_function(
        FunctionName=name,
        Runtime=props.get("Runtime", "python3.12"),
        Role=props["Role"],
        Handler=props["Handler"],
        Code={"ZipFile": zip_folder(code_dir)},
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


def code_fingerprint(ctx: Deployment, props: dict[str, Any]) -> str:
    """A hash of what a function runs: its code folder's files and its layers' (the folders
    `sam build` would package), so that an update can tell whether the code changed."""
    folders = [ctx.template.code_paths[props["Code"]["S3Key"]]]
    by_physical_id = {physical: logical for logical, physical in ctx.stack.physical_ids.items()}
    for layer in props.get("Layers", []):
        resource = ctx.template.resources.get(by_physical_id.get(str(layer), ""), {})
        key = resource.get("Properties", {}).get("Content", {}).get("S3Key")
        if key in ctx.template.code_paths:
            folders.append(ctx.template.code_paths[key])
    digest = hashlib.sha256()
    for number, folder in enumerate(folders):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{number}/{path.relative_to(folder).as_posix()}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def state_machine_definition(props: dict[str, Any]) -> str:
    """The definition a state machine is created with: its DefinitionSubstitutions filled."""
    definition = props.get("DefinitionString")
    if definition is None:
        definition = json.dumps(props["Definition"])
    substitutions = props.get("DefinitionSubstitutions", {})
    return re.sub(
        r"\$\{(\w+)\}",
        lambda m: str(substitutions[m.group(1)]) if m.group(1) in substitutions else m.group(0),
        definition,
    )


def state_machine(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    definition = state_machine_definition(props)
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


def zip_folder(folder: Path) -> bytes:
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
