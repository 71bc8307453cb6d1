"""Fixtures: the local stack (one per test process) and clients of it; the conformance summary."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import ROOT, QueueWatcher

if TYPE_CHECKING:  # imported when a test asks for the stack: the domain's tier runs without moto
    from photoflow_local.stack import LocalStack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Unit tests first. The moto patch tests (tests/unit/test_*patches.py, test_redrive.py)
    run moto in-process under mock_aws, which resets every backend of the process when it
    starts and stops and intercepts every AWS call made in the process while active: they
    must run before this process starts its local stack, never while one is up. (The
    patches themselves are undone after each of those tests: ``patches.apply`` returns a
    context.) xdist hands tests out in this order, so no worker meets a unit test after a
    stack test."""
    items.sort(key=lambda item: 0 if item.nodeid.startswith("tests/unit/") else 1)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The whole template on the local stack, with Retry intervals compressed 100x,
    failed SQS messages redelivered at once, and the MockConfigFile's test cases."""
    from photoflow_local.stack import LocalStack, StackOptions

    options = StackOptions(
        time_scale=0.01,
        retry_after_seconds=0,
        static_dir=ROOT / "web",
        mock_config=ROOT / "statemachine" / "test" / "MockConfigFile.json",
    )
    with LocalStack(ROOT / "template.yaml", options, log_sink=io.StringIO()) as stack:
        yield stack


@pytest.fixture(scope="session")
def aws(local_stack: LocalStack) -> Any:
    class Clients:
        s3 = local_stack.client("s3")
        sqs = local_stack.client("sqs")
        sfn = local_stack.client("stepfunctions")
        dynamodb = local_stack.client("dynamodb")

    return Clients


@pytest.fixture(scope="session")
def completed_queue(local_stack: LocalStack, aws: Any) -> QueueWatcher:
    return QueueWatcher(aws.sqs, local_stack.physical_id("CompletedPhotosQueue"))


@pytest.fixture(scope="session")
def failed_queue(local_stack: LocalStack, aws: Any) -> QueueWatcher:
    return QueueWatcher(aws.sqs, local_stack.physical_id("FailedPhotosQueue"))


@pytest.fixture(scope="session")
def deleted_queue(local_stack: LocalStack, aws: Any) -> QueueWatcher:
    """A subscriber of PhotoDeleted events only, as any subscriber would filter for them."""
    url = aws.sqs.create_queue(QueueName="test-deleted-photos")["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    local_stack.client("sns").subscribe(
        TopicArn=local_stack.output("PhotoEventsTopicArn"),
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageAttributes",
            "FilterPolicy": '{"eventType": ["PhotoDeleted"]}',
        },
    )
    return QueueWatcher(aws.sqs, url)


# ---------------------------------------------------------------- conformance summary
# Here rather than in tests/conformance/: with workers, only this conftest is loaded by
# the process that prints the summary.
CONFORMANCE_PREFIX = (
    "tests/conformance/test_conformance.py::test_the_local_engine_does_what_aws_recorded["
)


def _conformance_group(nodeid: str) -> str | None:
    if not nodeid.startswith(CONFORMANCE_PREFIX):
        return None
    return nodeid[len(CONFORMANCE_PREFIX) :].split("/", 1)[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, Counter[str]] = {}
    for outcome in ("passed", "failed", "error", "xfailed", "xpassed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            group = _conformance_group(getattr(report, "nodeid", ""))
            if group is None or (outcome != "skipped" and report.when != "call"):
                continue
            counts.setdefault(group, Counter())[outcome] += 1
    if not counts:
        return
    total: Counter[str] = Counter()
    for group, outcomes in sorted(counts.items()):
        total.update(outcomes)
        terminalreporter.write_line(f"conformance: {group} {_line(outcomes)}")
    terminalreporter.write_line(f"conformance: all {_line(total)}")


def _line(outcomes: Counter[str]) -> str:
    """Passed of compared, and what was not: known differences (excluded.json, run as
    strict xfails) and recordings that cannot be compared (skipped)."""
    compared = sum(outcomes[o] for o in ("passed", "failed", "error", "xfailed", "xpassed"))
    share = outcomes["passed"] / compared * 100 if compared else 0.0
    notes = []
    if outcomes["xfailed"]:
        notes.append(f"{outcomes['xfailed']} known differences")
    if outcomes["skipped"]:
        notes.append(f"{outcomes['skipped']} not comparable")
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f"{outcomes['passed']}/{compared} = {share:.1f}%{suffix}"
