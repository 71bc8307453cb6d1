"""CloudFormation's update-stack for the local endpoint: what a new template (or new
parameter values) changes in a deployed stack, applied in place where AWS updates in place.

A real update keeps every piece of data, so only what the local stack can change without
creating anything anew is applied: a Lambda function's environment, memory size, timeout
and code (UpdateFunctionConfiguration, UpdateFunctionCode: the local Lambda service then
retires the function's sandboxes), and a state machine's definition (UpdateStateMachine:
running executions keep the definition they started with). Any other difference (a resource
added or removed, another property changed) needs the stack created anew, by restarting
`photoflow up`; an update with any such difference is refused whole, so that the running
stack always matches one template, never a mixture of two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflow_local.deploy.compute import code_fingerprint, state_machine_definition, zip_folder
from photoflow_local.deploy.context import Deployment
from photoflow_local.deploy.registry import HANDLERS
from photoflow_local.intrinsics import Resolver, UnresolvedReference

FUNCTION = "AWS::Lambda::Function"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
# What each updatable type can change in place; its other properties need a restart.
IN_PLACE = {
    FUNCTION: {"Environment", "MemorySize", "Timeout"},
    STATE_MACHINE: {"Definition", "DefinitionString", "DefinitionSubstitutions"},
}


@dataclass
class StackUpdate:
    """The changes of one update: ``changes`` applied in place (one line each, "Logical:
    what"), ``restart`` the differences that need `photoflow up` restarted."""

    deployment: Deployment
    parameters: dict[str, str]
    changes: list[str] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    not_emulated: dict[str, str] = field(default_factory=dict)
    _steps: list[tuple[Callable[[], None], Callable[[], None]]] = field(default_factory=list)
    _properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    _fingerprints: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._previous_parameters = dict(self.deployment.stack.parameters)

    def parameter_changes(self) -> list[str]:
        previous = self._previous_parameters
        return [
            f"parameter {name}: {previous.get(name, '(none)')} -> {value}"
            for name, value in self.parameters.items()
            if previous.get(name) != value
        ]

    def apply(self) -> None:
        """Apply the in-place changes, in the stack and in the local AWS. A step the local
        AWS refuses undoes the steps before it, as CloudFormation rolls an update back."""
        if self.restart:
            raise ValueError("an update that needs a restart is not applied")
        done: list[Callable[[], None]] = []
        try:
            for step, undo in self._steps:
                step()
                done.append(undo)
        except Exception:
            for undo in reversed(done):
                undo()
            raise
        stack = self.deployment.stack
        stack.parameters = dict(self.parameters)
        stack.properties.update(self._properties)
        stack.code_fingerprints.update(self._fingerprints)
        stack.outputs = self.outputs
        stack.not_emulated.update(self.not_emulated)


def plan_update(
    deployment: Deployment, resolver: Resolver, parameters: dict[str, str], order: list[str]
) -> StackUpdate:
    """What deploying ``deployment.template`` (resolved by ``resolver``) changes."""
    update = StackUpdate(deployment, parameters)
    stack, template = deployment.stack, deployment.template
    wanted: dict[str, str] = {}
    for logical_id in order:
        resource = template.resources[logical_id]
        if "Condition" not in resource or resolver.condition(resource["Condition"]):
            wanted[logical_id] = resource["Type"]
    for logical_id in [i for i in stack.types if i not in wanted]:
        update.restart.append(f"{logical_id}: removed ({stack.types[logical_id]})")
    for logical_id, kind in wanted.items():
        if logical_id not in stack.types:
            update.restart.append(f"{logical_id}: added ({kind})")
        elif stack.types[logical_id] != kind:
            update.restart.append(f"{logical_id}: type {stack.types[logical_id]} -> {kind}")
        else:
            _plan_resource(update, resolver, logical_id, kind)
    return update


def _plan_resource(update: StackUpdate, resolver: Resolver, logical_id: str, kind: str) -> None:
    stack = update.deployment.stack
    declared = update.deployment.template.resources[logical_id].get("Properties", {})
    if kind not in HANDLERS:  # only named locally (a permission, a layer): nothing to do
        if declared != stack.properties.get(logical_id):
            update.changes.append(f"{logical_id}: properties changed (not emulated: nothing to do)")
            update._properties[logical_id] = declared
        return
    try:
        properties = resolver.resolve(declared)
    except UnresolvedReference as missing:
        update.restart.append(f"{logical_id}: refers to what is not created ({missing})")
        return
    before = stack.properties.get(logical_id, {})
    changed = sorted(k for k in {*before, *properties} if before.get(k) != properties.get(k))
    if kind == FUNCTION:
        _plan_function(update, logical_id, before, properties, changed)
        return
    if not changed:
        return
    others = [k for k in changed if k not in IN_PLACE.get(kind, set())]
    if others:
        update.restart.append(f"{logical_id}: {', '.join(others)} changed ({kind})")
    elif kind == STATE_MACHINE:
        _plan_state_machine(update, logical_id, before, properties)


def _plan_function(
    update: StackUpdate,
    logical_id: str,
    before: dict[str, Any],
    after: dict[str, Any],
    changed: list[str],
) -> None:
    ctx = update.deployment
    name = str(ctx.stack.physical_ids[logical_id])
    others = [k for k in changed if k not in IN_PLACE[FUNCTION]]
    if others:
        update.restart.append(f"{logical_id}: {', '.join(others)} changed ({FUNCTION})")
        return
    fingerprint = code_fingerprint(ctx, after)
    lambda_client = ctx.client("lambda")
    if changed:
        update.changes += [f"{logical_id}: {line}" for line in _configuration_lines(before, after)]
        update._steps.append(
            (
                lambda: lambda_client.update_function_configuration(**_configuration(name, after)),
                lambda: lambda_client.update_function_configuration(**_configuration(name, before)),
            )
        )
        update._properties[logical_id] = after
    folder = ctx.template.code_paths[after["Code"]["S3Key"]]
    function = ctx.stack.functions[name]
    if fingerprint != ctx.stack.code_fingerprints.get(name) or folder != function.code_dir:
        update.changes.append(f"{logical_id}: code updated")
        previous = function.code_dir  # the template's CodeUri may name another folder now

        def update_code(to: Path) -> None:  # the function's sandboxes retire
            with function._lock:
                function.code_dir = to
            lambda_client.update_function_code(FunctionName=name, ZipFile=zip_folder(to))

        update._steps.append((lambda: update_code(folder), lambda: update_code(previous)))
        update._fingerprints[name] = fingerprint


def _configuration(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """UpdateFunctionConfiguration's request for a function's properties (as created)."""
    variables = properties.get("Environment", {}).get("Variables", {})
    return {
        "FunctionName": name,
        "Environment": {"Variables": {k: str(v) for k, v in variables.items()}},
        "Timeout": int(properties.get("Timeout", 3)),
        "MemorySize": int(properties.get("MemorySize", 128)),
    }


def _configuration_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old, new = _configuration("", before), _configuration("", after)
    was, now = old["Environment"]["Variables"], new["Environment"]["Variables"]
    lines = [
        f"environment {key} {was.get(key, '(none)')} -> {now.get(key, '(none)')}"
        for key in sorted({*was, *now})
        if was.get(key) != now.get(key)
    ]
    if old["MemorySize"] != new["MemorySize"]:
        lines.append(f"memory {old['MemorySize']} -> {new['MemorySize']} MB")
    if old["Timeout"] != new["Timeout"]:
        lines.append(f"timeout {old['Timeout']} -> {new['Timeout']} s")
    return lines


def _plan_state_machine(
    update: StackUpdate, logical_id: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    arn = str(update.deployment.stack.physical_ids[logical_id])
    old, new = state_machine_definition(before), state_machine_definition(after)
    update._properties[logical_id] = after
    if old == new:  # the substitutions changed, not what they give
        return
    sfn = update.deployment.client("stepfunctions")
    update.changes.append(f"{logical_id}: definition updated")
    update._steps.append(
        (
            lambda: sfn.update_state_machine(stateMachineArn=arn, definition=new),
            lambda: sfn.update_state_machine(stateMachineArn=arn, definition=old),
        )
    )
