"""Replay a recorded execution on the local stack and compare the two, state by state.

A recording is an execution history as ``aws stepfunctions get-execution-history
--output json`` prints it (from AWS, the local stack or Step Functions Local),
optionally with ``describe-execution`` output beside it for an input the
history truncated; or, for an Express execution, which has no such history, its
events as the state machine logged them to CloudWatch Logs (execution_logs.py). Two modes:

- recorded: every Task's results (returns and errors, attempt by attempt,
  iteration by iteration) come from the history through a generated
  MockConfigFile test case, so the state machine's own logic is what is replayed;
- live: the local handlers and services run for real on the recorded input.

A redriven history (``ExecutionRedriven`` after an end) is replayed the same way: the
execution runs until its first attempt ends, and if it failed as the recording's did it is
redriven (RedriveExecution, on the local stack), as many times as it was recorded; then
the attempts are compared together, state by state, and so are where each redrive began
and how the attempt before it ended. Only attempts that ended FAILED can be reproduced:
a replay cannot stop an execution, or let it time out, where the recorded one did.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3

from photoflow_local import execution_logs, patches
from photoflow_local.history import StateRun, Timeline, build_timeline
from photoflow_local.stack import LocalStack

Mode = Literal["recorded", "live"]
TEST_CASE = "Replay"


class ReplayError(ValueError):
    """A recording that cannot be replayed (and why)."""


REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


@dataclass
class Recording:
    events: list[dict[str, Any]]
    timeline: Timeline
    input: Any
    source: str

    @classmethod
    def from_documents(
        cls,
        history: dict[str, Any],
        describe: dict[str, Any] | None = None,
        source: str = "history",
    ) -> Recording:
        events = history.get("events") if isinstance(history, dict) else None
        if not isinstance(events, list) or not events:
            raise ReplayError(f"{source}: no events (expected get-execution-history output)")
        try:
            timeline = build_timeline(events)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ReplayError(
                f"{source}: not a get-execution-history document ({type(error).__name__}: {error})"
            ) from None
        execution_input = timeline.input
        if timeline.input_truncated or execution_input is None:
            if describe is None or describe.get("inputDetails", {}).get("included") is False:
                raise ReplayError(
                    f"{source}: the execution input is truncated in the history; "
                    "pass the describe-execution output beside it"
                )
            execution_input = json.loads(describe["input"])
        return cls(events, timeline, execution_input, source)

    @classmethod
    def load(cls, history_path: Path, describe_path: Path | None = None) -> Recording:
        """A get-execution-history document, or an execution's log events (an Express
        execution's only history; execution_logs.py lists the shapes read)."""
        try:
            text = history_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ReplayError(f"{history_path}: not readable ({error})") from None
        if execution_logs.is_execution_log(text):
            try:
                _, logged = execution_logs.history_from_logs(text, str(history_path))
            except execution_logs.NotAnExecutionLog as error:
                raise ReplayError(str(error)) from None
            return cls.from_documents(logged, None, source=str(history_path))
        history = _read_json(history_path)
        describe = _read_json(describe_path) if describe_path else None
        return cls.from_documents(history, describe, source=str(history_path))

    @classmethod
    def fetch(
        cls, execution_arn: str, endpoint_url: str | None, region: str | None = None
    ) -> Recording:
        """Read an execution's history from any Step Functions endpoint (AWS when None)."""
        sfn = boto3.client("stepfunctions", endpoint_url=endpoint_url, region_name=region)
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events.extend(page["events"])
        describe = sfn.describe_execution(executionArn=execution_arn)
        return cls.from_documents({"events": events}, describe, source=execution_arn)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ReplayError(f"{path}: not readable JSON ({error})") from None


def state_names(definition: dict[str, Any]) -> set[str]:
    """Every state of a definition, those of Parallel branches and Map processors too."""
    names: set[str] = set()
    pending = [definition]
    while pending:
        machine = pending.pop()
        for name, state in machine.get("States", {}).items():
            names.add(name)
            pending.extend(state.get("Branches", []))
            for processor in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(processor), dict):
                    pending.append(state[processor])
    return names


def mock_config(recording: Recording, state_machine_name: str) -> tuple[dict[str, Any], list[str]]:
    """A MockConfigFile whose one test case returns every Task's recorded results.

    Returns the file's content and warnings for states left to run live (their
    results were truncated in the history).
    """
    per_state: dict[str, list[dict[str, Any]]] = {}
    truncated: set[str] = set()
    for state in recording.timeline.states:
        if state.kind != "Task" or not state.outcomes:
            continue
        if any(outcome.truncated for outcome in state.outcomes):
            truncated.add(state.name)
        for outcome in state.outcomes:
            if outcome.failed:
                response = {"Throw": {"Error": outcome.error, "Cause": outcome.cause or ""}}
            else:
                response = {"Return": outcome.output}
            per_state.setdefault(state.name, []).append(response)
    warnings = [
        f"{name}: its recorded result is truncated; it runs live in this replay"
        for name in sorted(truncated)
    ]
    responses = {
        f"{name}Recorded": {str(index): response for index, response in enumerate(sequence)}
        for name, sequence in per_state.items()
        if name not in truncated
    }
    test_case = {name: f"{name}Recorded" for name in per_state if name not in truncated}
    config = {
        "StateMachines": {state_machine_name: {"TestCases": {TEST_CASE: test_case}}},
        "MockedResponses": responses,
    }
    return config, warnings


@dataclass(frozen=True)
class Difference:
    position: int
    kind: str  # path, attempts, input, output, status, redrive
    state: str
    recorded: Any
    replayed: Any

    def describe(self) -> str:
        return (
            f"first difference at step {self.position + 1} ({self.state}): {self.kind} "
            f"recorded {_short(self.recorded)}, replayed {_short(self.replayed)}"
        )


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What differs from one run to the next by nature, wherever it appears: the request ids,
# trace ids, dates and checksums of a service's answer (an optimised integration's
# SdkHttpMetadata and SdkResponseMetadata), a function error's requestId, the ids SNS and
# SQS give a message, a function's log tail. Compared by presence, not by value.
VARYING_FIELDS = frozenset(
    {
        "RequestId",
        "requestId",
        "x-amzn-RequestId",
        "x-amzn-requestid",
        "X-Amzn-Trace-Id",
        "Date",
        "x-amz-crc32",
        "MessageId",
        "SequenceNumber",
        "LogResult",
        "X-Amz-Log-Result",
    }
)
VARIES = "<varies>"
# A service error's request id in a cause ("...; Request ID: 9f1c...; Proxy: null)").
_REQUEST_ID = re.compile(r"((?:Extended )?Request ID: )[A-Za-z0-9/=+-]+")


def comparable(value: Any) -> Any:
    """``value`` without what legitimately differs between runs: the stack traces in
    Lambda error causes (a Parallel reports whichever failing branch failed first), and
    the values of VARYING_FIELDS (their keys stay: the shape is compared)."""
    if isinstance(value, dict):
        return {
            k: VARIES if k in VARYING_FIELDS else comparable(v)
            for k, v in value.items()
            if k != "stackTrace"
        }
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str) and value.startswith("{") and '"stackTrace"' in value:
        try:
            return comparable(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, str):
        return _REQUEST_ID.sub(r"\1" + VARIES, value)
    return value


def _compared_runs(timeline: Timeline) -> list[StateRun]:
    """The canonical runs, less the branches of a Parallel or Map that failed: once one
    branch fails the others are cancelled wherever they were, which no replay can repeat."""
    failed_containers = {id(run) for run in timeline.states if run.failed}

    def inside_failed(run: StateRun) -> bool:
        parent = run.parent
        while parent is not None:
            if id(parent) in failed_containers:
                return True
            parent = parent.parent
        return False

    return [run for run in timeline.canonical() if not inside_failed(run)]


def compare(recorded: Timeline, replayed: Timeline) -> list[Difference]:
    """Every difference in path, attempts, inputs and outputs, then in the outcome.

    States that ran concurrently (Parallel branches, Map iterations) are
    compared in a stable order; payloads a history truncated are not compared.
    """
    differences: list[Difference] = []
    left, right = _compared_runs(recorded), _compared_runs(replayed)
    for position in range(max(len(left), len(right))):
        a: StateRun | None = left[position] if position < len(left) else None
        b: StateRun | None = right[position] if position < len(right) else None
        if a is None or b is None or _label(a) != _label(b):
            differences.append(
                Difference(
                    position,
                    "path",
                    (a or b).name if (a or b) else "?",  # type: ignore[union-attr]
                    _label(a) if a else None,
                    _label(b) if b else None,
                )
            )
            break  # past a fork the rest cannot line up
        if a.attempts != b.attempts:
            differences.append(Difference(position, "attempts", a.name, a.attempts, b.attempts))
        if not (a.input_truncated or b.input_truncated) and comparable(a.input) != comparable(
            b.input
        ):
            differences.append(Difference(position, "input", a.name, a.input, b.input))
        if not (a.output_truncated or b.output_truncated) and comparable(a.output) != comparable(
            b.output
        ):
            differences.append(Difference(position, "output", a.name, a.output, b.output))
    differences.extend(_redrive_differences(recorded, replayed, left))
    if (recorded.status, recorded.error and recorded.error[0]) != (
        replayed.status,
        replayed.error and replayed.error[0],
    ):
        differences.append(
            Difference(
                len(left),
                "status",
                "(execution)",
                [recorded.status, recorded.error and recorded.error[0]],
                [replayed.status, replayed.error and replayed.error[0]],
            )
        )
    return differences


def _label(run: StateRun) -> str:
    return run.name if not run.redrive else f"{run.name} (redrive {run.redrive})"


def _redrive_differences(
    recorded: Timeline, replayed: Timeline, compared: list[StateRun]
) -> list[Difference]:
    """How each attempt before a redrive ended, recorded and replayed; and whether the
    replay was redriven as often."""
    differences = []
    for index in range(max(len(recorded.redrives), len(replayed.redrives))):
        a = recorded.redrives[index] if index < len(recorded.redrives) else None
        b = replayed.redrives[index] if index < len(replayed.redrives) else None
        ending_a = [a.after_status, a.after_error and a.after_error[0]] if a else None
        ending_b = [b.after_status, b.after_error and b.after_error[0]] if b else None
        if ending_a != ending_b:
            position = sum(1 for run in compared if run.redrive <= index)
            differences.append(
                Difference(position, "redrive", f"(redrive {index + 1})", ending_a, ending_b)
            )
    return differences


@dataclass
class ReplayResult:
    mode: Mode
    recorded: Timeline
    replayed: Timeline
    execution_arn: str
    differences: list[Difference]
    warnings: list[str]

    @property
    def identical(self) -> bool:
        return not self.differences


def replay(
    recording: Recording,
    stack: LocalStack,
    mode: Mode,
    *,
    state_machine: str | None = None,
    photo: Path | None = None,
    timeout: float = 120.0,
) -> ReplayResult:
    """Run the recording's input on the local stack and compare the execution with it."""
    machine_arn = _state_machine_arn(stack, state_machine)
    machine_name = machine_arn.rsplit(":", 1)[-1]
    sfn = stack.client("stepfunctions")
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"])
    foreign = sorted({run.name for run in recording.timeline.states} - state_names(definition))
    if foreign:
        raise ReplayError(
            f"{recording.source} is not an execution of {machine_name}: it ran states"
            f" {', '.join(foreign)}, which {machine_name} does not have (give --template and"
            " --state-machine for the state machine it ran)"
        )
    not_failed = [r for r in recording.timeline.redrives if r.after_status != "FAILED"]
    if not_failed:
        raise ReplayError(
            f"{recording.source}: redrive {not_failed[0].count} followed an attempt that ended"
            f" {not_failed[0].after_status}; a replay reproduces redrives of FAILED attempts"
            " only (it cannot stop an execution, or time it out, where the recorded one was)"
        )
    warnings: list[str] = []
    target = machine_arn
    execution_input = recording.input
    versions: tuple[str, str] | None = None  # (recorded, replayed) version of the photo
    if mode == "recorded":
        config, warnings = mock_config(recording, machine_name)
        patches.register_test_case(config, machine_name, TEST_CASE, ordered=True)
        target = f"{machine_arn}#{TEST_CASE}"
    elif photo is not None:
        execution_input, versions = _seed_photo(stack, recording.input, photo)
    started = sfn.start_execution(
        stateMachineArn=target,
        name=f"replay-{uuid.uuid4().hex[:12]}",
        input=json.dumps(execution_input),
    )
    arn = started["executionArn"]
    ended = wait_for_execution(sfn, arn, timeout)
    for _ in recording.timeline.redrives:
        if ended["status"] not in REDRIVABLE:
            break  # it did not fail as recorded: the comparison says where it went
        sfn.redrive_execution(executionArn=arn)
        ended = wait_for_execution(sfn, arn, timeout)
    events = _history(sfn, arn)
    if versions is not None:  # the replay read its own upload: compare it as the recorded one
        events = _replaced(events, versions[1], versions[0])
    replayed = build_timeline(events)
    return ReplayResult(
        mode, recording.timeline, replayed, arn, compare(recording.timeline, replayed), warnings
    )


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def _state_machine_arn(stack: LocalStack, logical_id: str | None) -> str:
    """The template's photo workflow, the state machine of that logical id, or that ARN."""
    if logical_id is not None and logical_id.startswith("arn:"):
        return logical_id
    machines = stack.stack.of_type("AWS::StepFunctions::StateMachine")
    if logical_id is None:
        if stack.stack.main_state_machine is None:
            raise ReplayError(f"no photo workflow among {sorted(machines)}: name one")
        return machines[stack.stack.main_state_machine]
    if logical_id not in machines:
        raise ReplayError(
            f"no state machine {logical_id!r} in the template (has {sorted(machines)})"
        )
    return machines[logical_id]


def _replaced(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every string it holds."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {key: _replaced(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, old, new) for item in value]
    return value


def _seed_photo(
    stack: LocalStack, execution_input: Any, photo: Path
) -> tuple[Any, tuple[str, str] | None]:
    """Put the photo where the recorded input says it is, so live steps can read it. A
    recorded input that names the photo's version (a versioned bucket) names the version
    just stored instead: the input to run, and (recorded, stored) version ids."""
    source = execution_input.get("photo", {}) if isinstance(execution_input, dict) else {}
    bucket, key = source.get("bucket"), source.get("key")
    if not bucket or not key:
        raise ReplayError(
            "the recorded input has no photo.bucket and photo.key to put the photo at"
        )
    s3 = stack.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    stored = s3.put_object(Bucket=bucket, Key=key, Body=photo.read_bytes())
    recorded_version, version = source.get("versionId"), stored.get("VersionId")
    if not recorded_version or not version:
        return execution_input, None
    execution_input = {**execution_input, "photo": {**source, "versionId": version}}
    return execution_input, (str(recorded_version), str(version))


def wait_for_execution(sfn: Any, arn: str, timeout: float) -> dict[str, Any]:
    """DescribeExecution until it is no longer RUNNING, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    delay = 0.05
    while described["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise ReplayError(f"replay {arn} still RUNNING after {timeout}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
        described = sfn.describe_execution(executionArn=arn)
    return described
