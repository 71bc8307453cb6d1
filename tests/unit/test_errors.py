"""The domain's errors (photoflow.errors): each with its HTTP status and what the workflow
does with it, and the state machine's Retry and Catch lists held to that table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest

from photoflow import errors
from photoflow.errors import Workflow, entry_for, names, registry
from photoflow.imaging import errors as imaging
from tests.support import ROOT

ASL = json.loads((ROOT / "statemachine" / "photo_workflow.asl.json").read_text())
# Names the services and the runtime give their own errors; not the domain's.
AWS_PREFIXES = ("States.", "Lambda.", "Sandbox.", "Runtime.", "DynamoDB.", "SNS.", "PhotoFailed")


def lambda_tasks(
    states: dict[str, Any], enclosing: tuple[dict[str, Any], ...] = ()
) -> Iterator[tuple[str, dict[str, Any], tuple[dict[str, Any], ...]]]:
    """Every Lambda Task, with the Catchers that apply to it (its own, then those of the
    Parallel states around it, innermost first)."""
    for name, state in states.items():
        catchers = (*state.get("Catch", []), *enclosing)
        if state["Type"] == "Parallel":
            for branch in state["Branches"]:
                yield from lambda_tasks(branch["States"], catchers)
        elif state["Type"] == "Task" and state["Resource"].endswith(":lambda:invoke"):
            yield name, state, catchers


def named_anywhere(kind: str) -> set[str]:
    """Every error name in the definition's Retry (or Catch) lists, nested states too."""
    found: set[str] = set()

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            for rule in state.get(kind, []):
                found.update(rule["ErrorEquals"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(ASL["States"])
    return found


def test_the_table_gives_each_error_its_status_and_its_handling() -> None:
    assert {entry.name: (entry.status, entry.workflow) for entry in registry()} == {
        "EmptyPhoto": (400, "caught"),
        "PhotoTooLarge": (413, "caught"),
        "TooManyPixels": (422, "caught"),
        "UnsupportedFormat": (415, "caught"),
        "CorruptImage": (422, "caught"),
        "PhotoMissing": (404, "caught"),
        "StorageUnavailable": (503, "retried"),
        "DeletionIncomplete": (503, "not named"),
        "ConfigError": (500, "not named"),
        "NotAnS3Notification": (400, "not named"),
        "InvalidKey": (400, "not named"),
        "UnsupportedMediaType": (415, "not named"),
        "InvalidRequest": (400, "not named"),
        "InvalidCursor": (400, "not named"),
        "NoCallerIdentity": (401, "not named"),
    }
    assert {entry.name: entry.api_name for entry in registry() if entry.code} == {
        "InvalidRequest": "BadRequest",
        "NoCallerIdentity": "Unauthorized",
    }


def test_every_refusal_of_the_imaging_core_is_registered() -> None:
    def subclasses(cls: type[Exception]) -> set[type[Exception]]:
        found = set(cls.__subclasses__())
        for sub in cls.__subclasses__():
            found |= subclasses(sub)
        return found

    registered = {entry.error for entry in registry()}
    assert subclasses(imaging.InvalidPhoto) <= registered
    assert len(subclasses(imaging.InvalidPhoto)) == 5


def test_an_error_is_looked_up_by_its_class_then_its_bases() -> None:
    entry = entry_for(imaging.TooManyPixels("image is 20,000 x 20,000, over the limit"))
    assert entry is not None
    assert (entry.name, entry.status) == ("TooManyPixels", HTTPStatus.UNPROCESSABLE_ENTITY)

    class Narrower(errors.InvalidCursor):
        pass

    narrower = entry_for(Narrower("x"))
    assert narrower is not None and narrower.name == "InvalidCursor"
    assert entry_for(KeyError("sizes")) is None


def test_every_lambda_step_retries_the_transient_errors_and_no_catch_names_them() -> None:
    assert names(Workflow.RETRIED) == {"StorageUnavailable"}
    tasks = list(lambda_tasks(ASL["States"]))
    assert [name for name, _, _ in tasks] == ["ExtractMetadata", "MakeThumbnails", "ApplyFilters"]
    for name, state, _ in tasks:
        retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
        assert names(Workflow.RETRIED) <= retried, name
    assert not names(Workflow.RETRIED) & named_anywhere("Catch")


def test_every_lambda_step_catches_the_photos_faults_to_record_failure_never_retried() -> None:
    caught = names(Workflow.CAUGHT)
    assert caught == {
        "CorruptImage",
        "EmptyPhoto",
        "PhotoMissing",
        "PhotoTooLarge",
        "TooManyPixels",
        "UnsupportedFormat",
    }
    for name, _, catchers in lambda_tasks(ASL["States"]):
        # the first Catcher that names the error handles it; it must go to RecordFailure
        for error in caught:
            [first, *_] = [c for c in catchers if error in c["ErrorEquals"]]
            assert first["Next"] == "RecordFailure", (name, error)
        photo_catchers = [c for c in catchers if set(c["ErrorEquals"]) & caught]
        assert [set(c["ErrorEquals"]) for c in photo_catchers] == [caught], name
    assert not caught & named_anywhere("Retry")


def test_the_errors_the_workflow_does_not_handle_are_named_nowhere_in_it() -> None:
    not_named = names(Workflow.NOT_NAMED)
    assert "ConfigError" in not_named
    assert not not_named & (named_anywhere("Retry") | named_anywhere("Catch"))


def test_every_error_the_state_machine_names_is_aws_s_or_in_the_table() -> None:
    named = named_anywhere("Retry") | named_anywhere("Catch")
    ours = {error for error in named if not error.startswith(AWS_PREFIXES)}
    assert ours == {entry.name for entry in registry() if entry.workflow is not Workflow.NOT_NAMED}


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("photoflow.storage", "StorageUnavailable"),
        ("photoflow.storage", "PhotoMissing"),
        ("photoflow.config", "ConfigError"),
        ("photoflow.ingest", "NotAnS3Notification"),
        ("photoflow.uploads", "InvalidRequest"),
        ("photoflow.uploads", "UnsupportedMediaType"),
        ("photoflow.deletion", "DeletionIncomplete"),
        ("photoflow.photos", "InvalidCursor"),
        ("photoflow.keys", "InvalidKey"),
    ],
)
def test_the_modules_that_raise_an_error_still_offer_it_under_its_old_path(
    module: str, name: str
) -> None:
    imported = __import__(module, fromlist=[name])
    assert getattr(imported, name) is getattr(errors, name)
