"""The resources a service-integration case needs (see cases.py), on the local stack.

A ``role`` is the state machines' execution role, whose name some recordings masked.
Tables, topics and queues are created for each case and deleted after it; functions are
created once per stack for each code, since they keep no state between invocations (a
name in a case is only its placeholder's value in this run). The definition and the
input get this run's names, and the recording's account, region and partition, in
place of the placeholders; ``names`` maps them back for normalisation.
"""

from __future__ import annotations

import contextlib
import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from photoflow_local.stack import LocalStack
from tests.conformance.cases import FUNCTIONS, Case
from tests.conformance.normalise import ACCOUNT, REGION

FUNCTION_ROLE = "conformance-functions"
EXECUTION_ROLE = "conformance-states"  # the state machines'
_functions: dict[tuple[int, str, str, float], str] = {}  # (stack, placeholder, code, timeout)


@dataclass
class CaseResources:
    """This run's value of each placeholder, and what to delete afterwards."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder -> value
    cleanup: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def names(self) -> dict[str, str]:
        """value -> placeholder, for the local answers."""
        return {value: placeholder for placeholder, value in self.values.items()}

    def fill(self, text: str) -> str:
        """``text`` (a definition or an input) with this run's values in place of the
        placeholders, and this stack's account, region and partition in ARNs."""
        for placeholder in sorted(self.values, key=len, reverse=True):
            text = text.replace(placeholder, self.values[placeholder])
        text = text.replace("arn:<partition>:", "arn:aws:").replace(":<region>:", f":{REGION}:")
        return text.replace(":111111111111:", f":{ACCOUNT}:")


def _uid() -> str:
    return uuid.uuid4().hex[:10]


def _function(stack: LocalStack, placeholder: str, code: str, timeout: float) -> str:
    """A function running functions/<code>.py, created the first time a case needs it
    (one for each placeholder: a case may call two functions of one code)."""
    key = (id(stack), placeholder, code, timeout)
    if key not in _functions:
        iam = stack.client("iam")
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_role(RoleName=FUNCTION_ROLE, AssumeRolePolicyDocument="{}")
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("handler.py", (FUNCTIONS / f"{code}.py").read_text())
        name = f"conformance_{code}_{_uid()}"
        stack.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{ACCOUNT}:role/{FUNCTION_ROLE}",
            Handler="handler.handler",
            Code={"ZipFile": package.getvalue()},
            Timeout=int(timeout),
        )
        _functions[key] = name
    return _functions[key]


def _create(stack: LocalStack, resource: dict[str, Any], created: CaseResources) -> None:
    kind, placeholder = resource["type"], resource["name"]
    if kind == "function":
        name = _function(stack, placeholder, resource["code"], float(resource.get("timeout", 3)))
    elif kind == "role":
        name = EXECUTION_ROLE
    elif kind == "name":
        name = str(resource["value"]).format(uid=_uid())
    elif kind == "table":
        name, key = f"conformance_table_{_uid()}", resource["partitionKey"]
        dynamodb = stack.client("dynamodb")
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        created.cleanup.append(lambda: dynamodb.delete_table(TableName=name))
    elif kind == "topic":
        fifo = bool(resource["fifo"])
        name = f"conformance-topic-{_uid()}" + (".fifo" if fifo else "")
        sns = stack.client("sns")
        attributes = {"FifoTopic": "true"} if fifo else {}
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        created.cleanup.append(lambda: sns.delete_topic(TopicArn=arn))
    else:  # queue
        name = f"conformance-queue-{_uid()}"
        sqs = stack.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        created.values[resource["url"]] = url
        created.cleanup.append(lambda: sqs.delete_queue(QueueUrl=url))
    created.values[placeholder] = name


@contextlib.contextmanager
def case_resources(stack: LocalStack, case: Case) -> Iterator[CaseResources]:
    """The case's resources, for as long as the block runs."""
    created = CaseResources()
    try:
        for resource in case.resources:
            _create(stack, resource, created)
        yield created
    finally:
        for cleanup in reversed(created.cleanup):
            cleanup()
