"""What the local engine returns, made comparable with a recording of real AWS.

The recordings (see cases.py) replace what differs from run to run with placeholders
and keep JSON inputs and outputs parsed; the same is done here to the local engine's
answers, from the names and ARNs this run used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
# Fields that are text, never JSON: a cause or an error that happens to parse stays as is.
_TEXT_FIELDS = frozenset({"cause", "error", "name", "type", "resource", "resourceType"})
# A date and time as a whole value: the recordings replaced them with "date", "timestamp"
# or "datetime", depending on the recording, and all of those are compared as one
# placeholder. What this run answers becomes the placeholder only in the form AWS writes
# the times it generates (the context object's) or as the case's input holds it, so a
# time in another form is a difference.
_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4})[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
)
_AWS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_DATE_PLACEHOLDERS = frozenset({"date", "timestamp", "datetime"})
DATE = "<date>"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A cause that quotes the input it could not find a path in: the recordings replaced the
# quoted input with a placeholder.
_QUOTED_INPUT = re.compile(r"(could not be found in the input ')(.*)(')$", re.DOTALL)
_MAP_RUN = re.compile(r"(:mapRun:[^/]+/)([^:]+):([^\"',\s]+)")
# A service's request id in an error's cause, as the recordings masked it.
_REQUEST_ID = re.compile(r"((?:Extended )?Request ID: )[A-Za-z0-9/=+-]+")
# What the recordings masked in every service answer (the HTTP metadata of an optimised
# integration's result): the value of these headers, wherever they occur, by name.
_HEADER_MASKS = {
    name: name
    for name in ("X-Amzn-Trace-Id", "x-amz-crc32", "x-amzn-RequestId", "x-amzn-requestid")
}


@dataclass(frozen=True)
class RunNames:
    """The names this run gave the state machine, the execution and the role, and the
    identifiers it generated (map runs, UUIDs), numbered as the recordings number them."""

    state_machine: str
    execution: str
    role_arn: str
    input_text: str = ""  # the case's input and definition: the dates they hold are data
    resources: dict[str, str] = field(default_factory=dict)  # this run's name -> placeholder
    masked: dict[str, str] = field(default_factory=dict)  # field -> what the recording shows
    map_runs: dict[str, int] = field(default_factory=dict)
    uuids: dict[str, int] = field(default_factory=dict)

    def text(self, value: str) -> str:
        """``value`` with this run's names and the account's specifics as placeholders."""
        for name in sorted(self.resources, key=len, reverse=True):
            value = value.replace(name, self.resources[name])
        value = _REQUEST_ID.sub(r"\1<request_id>", value)
        value = value.replace(self.role_arn, "snf_role_arn")
        value = value.replace(self.state_machine, "<ArnPart_0idx>")
        value = value.replace(self.execution, "<ExecArnPart_0idx>")
        value = _MAP_RUN.sub(self._map_run, value)
        value = _UUID.sub(self._uuid, value)
        value = _QUOTED_INPUT.sub(r"\1<json-input:1>\3", value)
        value = value.replace("arn:aws:", "arn:<partition>:")
        value = value.replace(f":{REGION}:", ":<region>:")
        if value == REGION:  # a Task's region
            return "<region>"
        return value.replace(ACCOUNT, "111111111111")

    def _map_run(self, match: re.Match[str]) -> str:
        index = self.map_runs.setdefault(match.group(3), len(self.map_runs))
        label = match.group(2)
        if _UUID.fullmatch(label):
            label = f"<MapRunArnPart0_{index}idx>"
        return f"{match.group(1)}{label}:<MapRunArnPart1_{index}idx>"

    def _uuid(self, match: re.Match[str]) -> str:
        return f"<uuid:{self.uuids.setdefault(match.group(0), len(self.uuids) + 1)}>"


def _parsed(value: str) -> Any:
    """The JSON a string holds, or the string. The API answers inputs, outputs and
    variables as JSON text; the recordings hold some of them parsed (objects always,
    arrays and numbers in older ones), so both sides are compared parsed."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def normalise(value: Any, names: RunNames | None = None, *, key: str = "") -> Any:
    """A recording, or an answer of this run, in the one form both are compared in: this
    run's names as the recordings' placeholders, and every string that holds JSON parsed
    (the recordings parsed some and not others, at any depth)."""
    if isinstance(value, dict):
        return {
            k: _masked(k, v, key, names) if names is not None else normalise(v, names, key=k)
            for k, v in value.items()
            if k != "ResponseMetadata"
        }
    if isinstance(value, list):
        return [normalise(item, names) for item in value]
    if isinstance(value, datetime):
        return DATE
    if isinstance(value, str):
        return _normalise_text(value, names, key)
    return value


def _masked(key: str, value: Any, parent: str, names: RunNames) -> Any:
    """A field of this run's answer as the recordings show it: masked by its name (the
    case's ``masked``, the service answers' request ids, trace ids, checksums and dates),
    or normalised."""
    mask = names.masked.get(key) or _HEADER_MASKS.get(key)
    if mask is None and (parent, key) == ("SdkResponseMetadata", "RequestId"):
        mask = "RequestId"
    if mask is None and key == "Date" and parent in {"AllHttpHeaders", "HttpHeaders"}:
        mask = DATE
    if mask is None:
        return normalise(value, names, key=key)
    return [mask for _ in value] if isinstance(value, list) and key in names.masked else mask


def _normalise_text(value: str, names: RunNames | None, key: str) -> Any:
    parsed = _parsed(value)
    # Text fields stay text, unless they hold a JSON object (a function's error, as the
    # recordings show it parsed); a cause that happens to be a number stays a string.
    if parsed is not value and (key not in _TEXT_FIELDS or isinstance(parsed, dict)):
        return normalise(parsed, names)
    if names is None and (_DATE.match(value) or value in _DATE_PLACEHOLDERS):
        return DATE
    if names is not None and (
        _AWS_TIME.match(value) or (_DATE.match(value) and value in names.input_text)
    ):
        return DATE
    return names.text(value) if names is not None else value


# The id a recording gives the events of Parallel branches, which run side by side and so
# come in no fixed order: their ids and previous ids are masked and they are compared as
# a set.
_UNORDERED_ID = [0]


def _recorded_ids(expected: list[dict[str, Any]]) -> set[int]:
    """The ids a recording covers, its masked runs counted from the id before them."""
    ids: set[int] = set()
    last = 0
    for event in expected:
        last = last + 1 if event.get("id") == _UNORDERED_ID else int(event["id"])
        ids.add(last)
    return ids


def unordered_branches(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Both histories with each run of masked events (see above) in one sorted order. The
    recordings with masked runs also left out the events whose place was not fixed (a
    ParallelStateSucceeded among the branches'); the same ids are left out here."""
    if not any(event.get("id") == _UNORDERED_ID for event in expected):
        return expected, actual
    covered = _recorded_ids(expected)
    actual = [dict(event) for event in actual if event.get("id") in covered]
    if len(expected) != len(actual):
        return expected, actual
    expected = list(expected)
    index = 0
    while index < len(expected):
        if expected[index].get("id") != _UNORDERED_ID:
            index += 1
            continue
        end = index
        while end < len(expected) and expected[end].get("id") == _UNORDERED_ID:
            actual[end].update(id=_UNORDERED_ID, previousEventId=expected[end]["previousEventId"])
            end += 1
        for events in (expected, actual):
            events[index:end] = sorted(
                events[index:end], key=lambda e: json.dumps(e, sort_keys=True)
            )
        index = end
    return expected, actual


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)[:300]


def _dict_difference(expected: dict[str, Any], actual: dict[str, Any], path: str) -> str | None:
    missing, unexpected = (
        sorted(expected.keys() - actual.keys()),
        sorted(actual.keys() - expected.keys()),
    )
    if missing:
        return f"{path}.{missing[0]}: missing (expected {_shown(expected[missing[0]])})"
    if unexpected:
        return f"{path}.{unexpected[0]}: unexpected {_shown(actual[unexpected[0]])}"
    found = (first_difference(expected[k], actual[k], f"{path}.{k}") for k in expected)
    return next((difference for difference in found if difference), None)


def _list_difference(expected: list[Any], actual: list[Any], path: str) -> str | None:
    for index, (e, a) in enumerate(zip(expected, actual, strict=False)):
        found = first_difference(e, a, f"{path}[{index}]")
        if found:
            return found
    if len(expected) != len(actual):
        return f"{path}: {len(actual)} items, expected {len(expected)}"
    return None


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where ``actual`` first differs from ``expected``, and how; None when equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return _dict_difference(expected, actual, path)
    if isinstance(expected, list) and isinstance(actual, list):
        return _list_difference(expected, actual, path)
    if expected != actual:
        return f"{path}: {_shown(actual)}, expected {_shown(expected)}"
    return None
