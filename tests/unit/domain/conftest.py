"""The domain modules' storage boundary, faked: ``photoflow.clients`` answers with the fakes."""

from __future__ import annotations

import pytest

from photoflow import clients
from tests.unit.domain.fakes import FakeBucket, FakeStateMachine, FakeTable, FakeTopic

TABLE = "photoflow-photos"
BUCKET = "photoflow-dev-123456789012-us-east-1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:photoflow-PhotoEventsTopic"
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:PhotoWorkflow"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> FakeTable:
    fake = FakeTable()
    monkeypatch.setattr(clients, "dynamodb", lambda: fake)
    return fake


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> FakeBucket:
    fake = FakeBucket()
    monkeypatch.setattr(clients, "s3", lambda: fake)
    return fake


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> FakeTopic:
    fake = FakeTopic()
    monkeypatch.setattr(clients, "sns", lambda: fake)
    return fake


@pytest.fixture
def state_machine(monkeypatch: pytest.MonkeyPatch) -> FakeStateMachine:
    fake = FakeStateMachine()
    monkeypatch.setattr(clients, "stepfunctions", lambda: fake)
    return fake
