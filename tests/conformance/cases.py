"""The conformance cases: executions recorded on real AWS, to run again on the local engine.

Each case is one JSON file under ``cases/<group>/``:

    {
      "source": {
        "repository": "localstack/localstack",
        "commit": "<40 hex digits>",
        "test": "<test file>::<class>::<test>[<parameter id>]",
        "licence": "Apache-2.0",
        "recorded": "<the snapshot's recorded-date>"
      },
      "definition": { ...the state machine definition as it was created... },
      "input": "<the execution input exactly as it was sent: a JSON string>",
      "recorded": {
        "get_execution_history": { "events": [...] },
        "describe_execution": { ... }            (only when the recording has it)
      }
    }

``recorded`` is the snapshot's recorded content, unchanged: its placeholders stand for
what differed from run to run ("snf_role_arn", "<ArnPart_0idx>" for the state
machine's name, "<ExecArnPart_0idx>" for the execution's name, "timestamp", the
account "111111111111", the region "<region>"), and JSON inputs and outputs appear
parsed (objects always, arrays and numbers in older recordings). The runner
(test_conformance.py) puts both sides in one form (normalise.py) before comparing.

Cases of the groups ``test_state`` and ``validation`` are one API call each, recorded on AWS:
``"kind": "test_state"`` (or ``"validation"``), ``"request"`` (the call's parameters as sent,
the account "111111111111") and ``"recorded"`` with ``"test_state"`` (or
``"validate_state_machine_definition"``): the answer, or the error as
``{"Error": {"Code", "Message"}}``, with the recording's placeholders ("<resource:N>" for
generated names, "date" for times).

A case of a service integration also names the resources its execution needs, created
before it starts (resources.py), and the values the recording masked:

      "resources": [
        {"type": "function", "name": "<lambda_function_name>", "code": "identity"},
        {"type": "table", "name": "<test-table>", "partitionKey": "id"},
        {"type": "topic", "name": "<resource:1>", "fifo": false},
        {"type": "queue", "name": "<sqs_queue_name>", "url": "<sqs_queue_url>"},
        {"type": "name", "name": "<test-table>", "value": "no_such_table_{uid}"},
        {"type": "role", "name": "<resource:2>"}
      ],
      "masked": {"MD5OfMessageBody": "<m-d5-of-message-body:1>"}

Each resource's ``name`` (and a queue's ``url``) is the placeholder the recording shows
for it; the definition and the input hold the same placeholders, in ARNs as the recording
writes them (``arn:<partition>:sns:<region>:111111111111:<resource:1>``), and the runner
puts this run's names in their place. A ``function``'s code is functions/<code>.py; a
``name`` is a name no resource has (a table or queue that does not exist); ``role``, the
execution role's name where the recording masked it. ``masked``:
fields whose values the recording replaced (by key, wherever they occur).

``python -m tests.conformance.cases`` checks every case file's shape and prints the count
per group.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CASES = Path(__file__).resolve().parent / "cases"
EXCLUDED = Path(__file__).resolve().parent / "excluded.json"
_SOURCE_KEYS = {"repository", "commit", "test", "licence", "recorded"}
# The kinds of case: an execution, or one call of these APIs, with the key of its recording.
CALL_KINDS = {"test_state": "test_state", "validation": "validate_state_machine_definition"}
FUNCTIONS = Path(__file__).resolve().parent / "functions"
# Each type of resource, and the fields it needs besides its type and name.
RESOURCE_FIELDS: dict[str, set[str]] = {
    "function": {"code"},
    "table": {"partitionKey"},
    "topic": {"fifo"},
    "queue": {"url"},
    "name": {"value"},
    "role": set(),
}


class CaseError(ValueError):
    """A case file that is not of the documented shape."""


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    source: dict[str, str]
    definition: dict[str, Any]
    input: str
    recorded: dict[str, Any]
    kind: str = "execution"
    request: dict[str, Any] | None = None
    resources: tuple[dict[str, Any], ...] = ()
    masked: dict[str, str] | None = None

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.recorded["get_execution_history"]["events"]
        return events


def _source_problems(source: dict[str, Any]) -> list[str]:
    problems = []
    if set(source) != _SOURCE_KEYS:
        problems.append(f"source has {sorted(source)}, wants {sorted(_SOURCE_KEYS)}")
    if not re.fullmatch(r"[0-9a-f]{40}", str(source.get("commit", ""))):
        problems.append("source.commit is not a full commit id")
    return problems


def _load_call_case(path: Path, document: dict[str, Any]) -> Case:
    """A case of one recorded API call (kind test_state or validation)."""
    kind = str(document["kind"])
    problems = _source_problems(document.get("source", {}))
    if kind not in CALL_KINDS:
        problems.append(f"kind {kind!r} is not one of {sorted(CALL_KINDS)}")
    elif not isinstance(document.get("recorded", {}).get(CALL_KINDS[kind]), dict):
        problems.append(f"recorded.{CALL_KINDS[kind]} is missing")
    if not isinstance(document.get("request"), dict):
        problems.append("request is not an object")
    if problems:
        raise CaseError(f"{path}: " + "; ".join(problems))
    return Case(
        group=path.parent.name,
        name=path.stem,
        source=document["source"],
        definition={},
        input="",
        recorded=document["recorded"],
        kind=kind,
        request=document["request"],
    )


def load_case(path: Path) -> Case:
    document = json.loads(path.read_text(encoding="utf-8"))
    if "kind" in document:
        return _load_call_case(path, document)
    source = document.get("source", {})
    problems = _source_problems(source)
    if not isinstance(document.get("definition"), dict) or "States" not in document["definition"]:
        problems.append("definition is not a state machine definition")
    if not isinstance(document.get("input"), str):
        problems.append("input is not a string")
    else:
        try:
            json.loads(document["input"])
        except ValueError:
            problems.append("input is not JSON")
    recorded = document.get("recorded", {})
    events = recorded.get("get_execution_history", {}).get("events")
    if not isinstance(events, list) or not events:
        problems.append("recorded.get_execution_history.events is missing or empty")
    elif events[0].get("type") != "ExecutionStarted":
        problems.append("the recorded history does not start with ExecutionStarted")
    problems.extend(_resource_problems(document.get("resources", [])))
    if not isinstance(document.get("masked", {}), dict):
        problems.append("masked is not an object")
    if problems:
        raise CaseError(f"{path}: " + "; ".join(problems))
    return Case(
        group=path.parent.name,
        name=path.stem,
        source=source,
        definition=document["definition"],
        input=document["input"],
        recorded=recorded,
        resources=tuple(document.get("resources", [])),
        masked=document.get("masked"),
    )


def _resource_problems(resources: Any) -> list[str]:
    if not isinstance(resources, list):
        return ["resources is not a list"]
    problems = []
    for index, resource in enumerate(resources):
        kind = resource.get("type") if isinstance(resource, dict) else None
        if kind not in RESOURCE_FIELDS:
            problems.append(f"resources[{index}] has no known type")
            continue
        missing = ({"name"} | RESOURCE_FIELDS[kind]) - set(resource)
        if missing:
            problems.append(f"resources[{index}] ({kind}) lacks {sorted(missing)}")
        elif kind == "function" and not (FUNCTIONS / f"{resource['code']}.py").is_file():
            problems.append(f"resources[{index}]: no functions/{resource['code']}.py")
    return problems


def all_cases() -> list[Case]:
    return [load_case(path) for path in sorted(CASES.glob("*/*.json"))]


@dataclass(frozen=True)
class Exclusion:
    """A case that is not expected to pass, and why.

    ``recording``: the recording cannot be compared (it masked the value that matters,
    or was taken before the execution ended); the case is skipped. ``engine``: the local
    engine differs from AWS there; the case still runs and must fail (strict xfail), so
    that fixing the engine shows and takes it off the list.
    """

    kind: str
    reason: str


def excluded() -> dict[str, Exclusion]:
    """The cases excluded.json lists, by id."""
    document = json.loads(EXCLUDED.read_text(encoding="utf-8"))
    exclusions = {case_id: Exclusion(**entry) for case_id, entry in document.items()}
    kinds = {exclusion.kind for exclusion in exclusions.values()}
    if not kinds <= {"recording", "engine"}:
        raise CaseError(f"{EXCLUDED}: unknown kinds {sorted(kinds - {'recording', 'engine'})}")
    return exclusions


def main() -> int:
    counts: dict[str, int] = {}
    failures = 0
    for path in sorted(CASES.glob("*/*.json")):
        try:
            case = load_case(path)
        except (CaseError, ValueError) as error:
            failures += 1
            sys.stderr.write(f"{error}\n")
            continue
        counts[case.group] = counts.get(case.group, 0) + 1
    for group, count in sorted(counts.items()):
        sys.stdout.write(f"{group}: {count}\n")
    sys.stdout.write(f"total: {sum(counts.values())} cases, {failures} malformed\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
