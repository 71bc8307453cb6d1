"""The workflow's shape, read from the translated template and its state machine's ASL.

Tests, soak and bench ask which functions the template declares, which of them the
workflow's steps invoke and in what order, which queues move what they cannot
deliver to which dead-letter queue, who subscribes to the topics and what raises an
alarm. They ask here, so that a step or a subscriber added to the template is
checked, watched and measured with no list to edit by hand.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflow_local.template import TranslatedTemplate, translate

FUNCTION = "AWS::Lambda::Function"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
STATE_MACHINES = (STATE_MACHINE, "AWS::Serverless::StateMachine")
QUEUE = "AWS::SQS::Queue"
SUBSCRIPTION = "AWS::SNS::Subscription"
ALARM = "AWS::CloudWatch::Alarm"
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"

# A stage of the workflow: its branches run side by side, the steps of a branch in turn.
Stage = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Step:
    """A Task state of the ASL that invokes one of the template's functions."""

    state: str
    function: str  # logical id


@dataclass(frozen=True)
class Subscriber:
    """An SNS subscription of the template, and where what it receives goes."""

    subscription: str  # logical id of the AWS::SNS::Subscription
    topic: str  # logical id of the topic it subscribes to
    protocol: str
    queue: str | None  # protocol sqs: the subscribed queue's logical id
    queue_dead_letter: str | None  # where that queue moves what its consumer cannot handle
    redrive_queue: str | None  # where SNS puts what it cannot deliver (the subscription's)
    events: tuple[str, ...]  # eventType values its filter policy accepts; () = every message
    condition: str | None  # the template condition it is created under, if any


@dataclass(frozen=True)
class WorkflowShape:
    state_machine: str  # logical id
    functions: tuple[str, ...]  # every function of the template, in template order
    steps: tuple[Step, ...]  # Lambda Task states, in the order the ASL declares them
    stages: tuple[Stage, ...]  # the steps' functions along the ASL's success path
    states: tuple[str, ...]  # every state of the ASL, those inside Parallel and Map too
    dead_letters: dict[str, str]  # queue -> its RedrivePolicy's dead-letter queue
    queues: tuple[str, ...]  # every queue, dead-letter queues included
    subscribers: tuple[Subscriber, ...]
    alarms: tuple[str, ...]
    consumers: dict[str, str]  # function -> the queue its event source mapping reads

    @property
    def step_functions(self) -> tuple[str, ...]:
        """The functions the workflow invokes, each once, in the ASL's order."""
        return tuple(dict.fromkeys(step.function for step in self.steps))

    @property
    def dead_letter_queues(self) -> tuple[str, ...]:
        """Queues that receive what a queue or an SNS subscription could not deliver."""
        targets = set(self.dead_letters.values())
        targets |= {s.redrive_queue for s in self.subscribers if s.redrive_queue}
        return tuple(q for q in self.queues if q in targets)

    @property
    def queue_subscribers(self) -> tuple[Subscriber, ...]:
        """Subscribers that are SQS queues (a consumer reads them)."""
        return tuple(s for s in self.subscribers if s.queue is not None)

    @property
    def subscriber_queues(self) -> dict[str, tuple[str, ...]]:
        """Each SQS subscriber's queue, and the events its filter policy takes."""
        return {s.queue: s.events for s in self.subscribers if s.queue is not None}

    def state_of(self, function: str) -> str:
        """The (first) Task state invoking ``function``."""
        return next(step.state for step in self.steps if step.function == function)

    def function_of(self, state: str) -> str:
        return next(step.function for step in self.steps if step.state == state)


@functools.cache
def _cached(path: Path, parameters: tuple[tuple[str, str], ...]) -> WorkflowShape:
    return shape_of(translate(path, dict(parameters)))


def load_shape(path: Path, parameters: dict[str, str] | None = None) -> WorkflowShape:
    """The shape of the template at ``path`` (translated once per process and parameters)."""
    return _cached(path.resolve(), tuple(sorted((parameters or {}).items())))


def main_state_machine(resources: dict[str, dict[str, Any]]) -> str:
    """The photo workflow among a template's state machines (SAM's or translated): the
    only one, or the one that a function's environment names (the ingest starts it;
    the reprocessing workflow is started by hand)."""
    machines = [k for k, r in resources.items() if r.get("Type") in STATE_MACHINES]
    if len(machines) == 1:
        return machines[0]
    started = {
        name
        for r in resources.values()
        if r.get("Type") in (FUNCTION, "AWS::Serverless::Function")
        for value in (r.get("Properties", {}).get("Environment", {}).get("Variables", {}).values())
        if (name := _logical(value)) in machines
    }
    if len(started) != 1:
        raise ValueError(
            f"the template has {len(machines)} state machines and functions start"
            f" {len(started)} of them: name one of {sorted(machines)}"
        )
    return started.pop()


def shape_of(template: TranslatedTemplate, state_machine: str | None = None) -> WorkflowShape:
    resources = template.resources
    if state_machine is None:
        state_machine = main_state_machine(resources)
    functions = tuple(k for k, r in resources.items() if r.get("Type") == FUNCTION)
    definition = _definition(template, state_machine)
    arns = _substituted_functions(resources[state_machine], set(functions))
    queues = tuple(k for k, r in resources.items() if r.get("Type") == QUEUE)
    return WorkflowShape(
        state_machine=state_machine,
        functions=functions,
        steps=tuple(_steps(definition, arns)),
        stages=tuple(_stages(definition, arns)),
        states=tuple(name for name, _ in _all_states(definition)),
        dead_letters={
            queue: target
            for queue in queues
            if (target := _redrive_target(resources[queue].get("Properties", {})))
        },
        queues=queues,
        subscribers=tuple(
            _subscriber(k, r, resources) for k, r in resources.items() if r["Type"] == SUBSCRIPTION
        ),
        alarms=tuple(k for k, r in resources.items() if r.get("Type") == ALARM),
        consumers={
            str(_logical(props.get("FunctionName"))): str(_logical(props.get("EventSourceArn")))
            for r in resources.values()
            if r.get("Type") == EVENT_SOURCE_MAPPING
            for props in [r.get("Properties", {})]
        },
    )


# ---------------------------------------------------------------- the template
def _logical(value: Any) -> str | None:
    """The logical id a Ref or Fn::GetAtt names; None for anything else."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value:
        return str(value["Ref"])
    target = value.get("Fn::GetAtt")
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and target:
        return str(target[0])
    return None


def _redrive_target(properties: dict[str, Any]) -> str | None:
    policy = properties.get("RedrivePolicy") or {}
    if isinstance(policy, str):
        policy = json.loads(policy)
    return _logical(policy.get("deadLetterTargetArn"))


def _subscriber(
    logical_id: str, resource: dict[str, Any], resources: dict[str, dict[str, Any]]
) -> Subscriber:
    properties = resource.get("Properties", {})
    protocol = str(properties.get("Protocol", ""))
    queue = _logical(properties.get("Endpoint")) if protocol == "sqs" else None
    events = (properties.get("FilterPolicy") or {}).get("eventType", [])
    return Subscriber(
        subscription=logical_id,
        topic=str(_logical(properties.get("TopicArn"))),
        protocol=protocol,
        queue=queue,
        queue_dead_letter=(
            _redrive_target(resources[queue].get("Properties", {})) if queue else None
        ),
        redrive_queue=_redrive_target(properties),
        events=tuple(str(e) for e in events if isinstance(e, str)),
        condition=resource.get("Condition"),
    )


def _substituted_functions(machine: dict[str, Any], functions: set[str]) -> dict[str, str]:
    """Substitution variable -> function, for the functions a state machine's
    DefinitionSubstitutions name."""
    substitutions = machine.get("Properties", {}).get("DefinitionSubstitutions", {})
    return {
        name: str(_logical(value))
        for name, value in substitutions.items()
        if _logical(value) in functions
    }


def _definition(template: TranslatedTemplate, state_machine: str) -> dict[str, Any]:
    """The ASL, its ${...} substitution variables left as written."""
    path = template.code_paths.get(state_machine)
    if path is not None and path.is_file():
        definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return definition
    properties = template.resources[state_machine].get("Properties", {})
    text = properties.get("DefinitionString")
    if isinstance(text, dict) and "Fn::Join" in text:
        separator, parts = text["Fn::Join"]
        text = separator.join(parts)
    if not isinstance(text, str):
        raise ValueError(f"{state_machine}: no definition to read")
    parsed: dict[str, Any] = json.loads(text)
    return parsed


# ---------------------------------------------------------------- the ASL
def _all_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition.get("States", {}).items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _all_states(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _all_states(processor)


def _invoked(state: dict[str, Any], arns: dict[str, str]) -> str | None:
    """The function a Task state invokes: as its Resource, or as the FunctionName of the
    lambda:invoke integration."""
    if state.get("Type") != "Task":
        return None
    arguments = state.get("Arguments") or state.get("Parameters") or {}
    candidates = [state.get("Resource"), arguments.get("FunctionName")]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.startswith("${") and candidate.endswith("}"):
            function = arns.get(candidate[2:-1])
            if function:
                return function
    return None


def _steps(definition: dict[str, Any], arns: dict[str, str]) -> Iterator[Step]:
    for name, state in _all_states(definition):
        function = _invoked(state, arns)
        if function:
            yield Step(name, function)


def _stages(definition: dict[str, Any], arns: dict[str, str]) -> Iterator[Stage]:
    """From StartAt along each state's Next (a Choice's Default): a Task invoking a
    function is a stage of one branch; a Parallel, a stage of its branches' functions."""
    states = definition.get("States", {})
    name = definition.get("StartAt")
    seen: set[str] = set()
    while isinstance(name, str) and name in states and name not in seen:
        seen.add(name)
        state = states[name]
        function = _invoked(state, arns)
        if function:
            yield ((function,),)
        elif state.get("Type") == "Parallel":
            branches = tuple(
                tuple(f for stage in _stages(b, arns) for branch in stage for f in branch)
                for b in state.get("Branches", [])
            )
            if any(branches):
                yield tuple(b for b in branches if b)
        name = state.get("Next") or state.get("Default")
