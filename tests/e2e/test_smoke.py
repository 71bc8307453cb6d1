"""`photoflow smoke` as a user runs it right after deploying, here against the local stack."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from photoflow_local.client import sign_in
from photoflow_local.identity import LOCAL_TEST_PASSWORD, LOCAL_TEST_USER
from tests.support import photoflow

LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}
CHECKS = [
    "subscribe temporary queue",
    "upload photo",
    "upload corrupt photo",
    "processing finishes",
    "photo completed with metadata",
    "thumbnails and filters listed",
    "derivatives downloadable",
    "corrupt photo failed with CorruptImage",
    "notifications received",
    "no duplicate notifications",
]

Running = tuple[Path, dict[str, Any]]
Leftovers = Callable[[], tuple[list[str], list[str]]]


def smoke(running: Running, *args: str) -> tuple[int, list[str], str]:
    """`photoflow smoke` on the stack with its topic: exit status, stdout lines, all output."""
    workdir, state = running
    result = photoflow(
        workdir,
        "smoke",
        "--api",
        state["apiUrl"],
        "--topic",
        state["outputs"]["PhotoEventsTopicArn"],
        "--endpoint-url",
        state["endpointUrl"],
        *args,
        env=LOCAL_AWS,
    )
    return result.returncode, result.stdout.splitlines(), result.stdout + result.stderr


@pytest.fixture(scope="module")
def leftovers(running: Running) -> Leftovers:
    """What smoke runs left on the stack: temporary queues and their subscriptions."""
    _, state = running
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    sqs = session.client("sqs", endpoint_url=state["endpointUrl"])
    sns = session.client("sns", endpoint_url=state["endpointUrl"])
    topic = state["outputs"]["PhotoEventsTopicArn"]

    def find() -> tuple[list[str], list[str]]:
        queues = sqs.list_queues(QueueNamePrefix="photoflow-smoke-").get("QueueUrls", [])
        subscriptions = [
            s["Endpoint"]
            for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            if "photoflow-smoke-" in s["Endpoint"]
        ]
        return queues, subscriptions

    return find


def test_a_healthy_stack_passes_every_check(running: Running, leftovers: Leftovers) -> None:
    _, state = running
    token = sign_in(state["apiUrl"], LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)["id_token"]
    status, lines, output = smoke(running, "--token", token, "--timeout", "60")

    assert status == 0, output
    assert lines[:-1] == [f"PASS {check}" for check in CHECKS], output
    assert re.fullmatch(r"smoke test passed: 10 checks in \d+\.\d s", lines[-1]), output
    assert "Traceback" not in output
    # The temporary queue existed (its check passed) and is gone with its subscription
    assert leftovers() == ([], [])


def test_a_failing_check_stops_and_cleans_up(running: Running, leftovers: Leftovers) -> None:
    status, lines, output = smoke(running, "--token", "not-a-token")

    assert status == 1, output
    assert lines[0] == "PASS subscribe temporary queue", output
    assert lines[1].startswith("FAIL upload photo: the API answered HTTP 401"), output
    assert "check --token or --iam" in lines[1]
    # Nothing after the first failure but the summary
    assert len(lines) == 3, output
    assert lines[2].startswith("smoke test failed at upload photo after "), output
    assert "Traceback" not in output
    assert leftovers() == ([], [])


def test_an_identity_is_required(running: Running, leftovers: Leftovers) -> None:
    status, lines, output = smoke(running)

    assert status == 2, output
    assert "give --token (ApiAuth COGNITO) or --iam (ApiAuth AWS_IAM)" in output
    assert not any(line.startswith(("PASS", "FAIL")) for line in lines), output
    assert leftovers() == ([], [])
