"""What the translated template's policies allow, evaluated statement by statement.

The template is translated as `sam deploy` would, its intrinsics resolved to
plausible names and ARNs, and every role's and resource policy's statements fed
to a small IAM evaluator: Allow and Deny, action wildcards (``s3:Get*``),
resource ARN wildcards, and the condition operators the template uses. The
questions are the ones a reviewer asks: can this role do what it should not?
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from photoflow_local.names import ACCOUNT, REGION, DeployedNames
from photoflow_local.shape import Subscriber, load_shape
from photoflow_local.template import translate
from tests.support import ROOT

ORIGIN = "https://photos.example.com"
# Statements on Resource "*" exist only where AWS offers no resource-level permission.
STAR_ALLOWED = {
    # X-Ray: PutTraceSegments and friends have no resource types.
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    "xray:GetSamplingRules": "X-Ray has no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray has no resource-level permissions",
    # State machine logging: AWS documents these on "*" (vended log delivery).
    "logs:CreateLogDelivery": "vended log delivery has no resource-level permissions",
    "logs:GetLogDelivery": "vended log delivery has no resource-level permissions",
    "logs:UpdateLogDelivery": "vended log delivery has no resource-level permissions",
    "logs:DeleteLogDelivery": "vended log delivery has no resource-level permissions",
    "logs:ListLogDeliveries": "vended log delivery has no resource-level permissions",
    "logs:PutResourcePolicy": "vended log delivery has no resource-level permissions",
    "logs:DescribeResourcePolicies": "vended log delivery has no resource-level permissions",
    "logs:DescribeLogGroups": "vended log delivery has no resource-level permissions",
}
# What the template declares (tests/unit/test_shape.py pins the current lists).
SHAPE = load_shape(ROOT / "template.yaml", {"AllowedOrigin": ORIGIN})
STEP_FUNCTIONS = SHAPE.step_functions
ALL_FUNCTIONS = SHAPE.functions


# ---------------------------------------------------------------- a small IAM evaluator
def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob
    )  # IAM wildcards: * any run of characters (":" and "/" included), ? one character
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    principals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sid: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Statement:
        principal = raw.get("Principal", {})
        principals = (
            {"*": ("*",)}
            if principal == "*"
            else {kind: tuple(_listed(v)) for kind, v in principal.items()}
        )
        return cls(
            effect=raw["Effect"],
            actions=tuple(_listed(raw["Action"])),
            resources=tuple(_listed(raw.get("Resource", "*"))),
            conditions=raw.get("Condition", {}),
            principals=principals,
            sid=raw.get("Sid", ""),
        )

    def matches(self, action: str, resource: str, context: dict[str, str] | None) -> bool:
        return (
            any(_pattern(a, ignore_case=True).match(action) for a in self.actions)
            and any(_pattern(r, ignore_case=False).match(resource) for r in self.resources)
            and self._conditions_hold(context)
        )

    def _conditions_hold(self, context: dict[str, str] | None) -> bool:
        # Without a request context, a conditional statement is taken as applying: an
        # Allow then counts as a grant (the cautious reading for "cannot" questions).
        if context is None:
            return True
        for operator, tests in self.conditions.items():
            for key, expected in tests.items():
                actual = context.get(key)
                if actual is None or not _condition(operator, actual, _listed(expected)):
                    return False
        return True


def _condition(operator: str, actual: str, expected: list[Any]) -> bool:
    if operator == "Bool":
        return actual.lower() in {str(e).lower() for e in expected}
    if operator == "StringEquals":
        return actual in {str(e) for e in expected}
    if operator in {"ArnLike", "ArnEquals", "StringLike"}:
        return any(_pattern(str(e), ignore_case=False).match(actual) for e in expected)
    if operator == "NumericGreaterThan":
        return any(float(actual) > float(e) for e in expected)
    raise AssertionError(f"condition operator {operator} is not modelled by this evaluator")


@dataclass
class Policy:
    statements: list[Statement]

    def allows(self, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        matched = [s for s in self.statements if s.matches(action, resource, context)]
        return any(s.effect == "Allow" for s in matched) and not self.denies(
            action, resource, context
        )

    def denies(self, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        return any(
            s.effect == "Deny" and s.matches(action, resource, context) for s in self.statements
        )


# ---------------------------------------------------------------- the template, resolved
@functools.cache
def deployed(api_auth: str = "COGNITO") -> DeployedNames:
    parameters = {"AllowedOrigin": ORIGIN, "ApiAuth": api_auth}
    return DeployedNames(translate(ROOT / "template.yaml", parameters), parameters)


def role_of(stack: DeployedNames, logical_id: str) -> str:
    """The logical id of the role a function or state machine runs as."""
    properties = stack.template.resources[logical_id]["Properties"]
    role = properties.get("Role") or properties["RoleArn"]
    return str(role["Fn::GetAtt"][0])


def identity_policy(stack: DeployedNames, role: str) -> Policy:
    properties = stack.properties(role)
    statements = [
        Statement.parse(raw)
        for policy in properties.get("Policies", [])
        for raw in _listed(policy["PolicyDocument"]["Statement"])
    ]
    return Policy(statements)


def policy_of(logical_id: str) -> Policy:
    stack = deployed()
    return identity_policy(stack, role_of(stack, logical_id))


def bucket_key(key: str) -> str:
    return f"{deployed().get_att('PhotosBucket', 'Arn')}/{key}"


TABLE_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
UPLOAD_KEY = "uploads/0123456789abcdef0123456789abcdef/beach.jpg"
DERIVATIVE_KEY = "derivatives/0123456789abcdef0123456789abcdef/thumbnails/256.jpg"


# ---------------------------------------------------------------- the roles
def test_every_role_is_explicit_with_no_managed_policies() -> None:
    # Given every role of the translated template
    stack = deployed()
    roles = list(stack.of_type("AWS::IAM::Role"))
    # Then each function and the workflow has its own, and none carries AWS managed
    # policies (whose logs:* and X-Ray statements are on "*")
    assert sorted(role_of(stack, f) for f in ALL_FUNCTIONS) == sorted(
        f"{f}Role" for f in ALL_FUNCTIONS
    )
    assert role_of(stack, "PhotoWorkflow") == "PhotoWorkflowRole"
    for role in roles:
        assert not stack.properties(role).get("ManagedPolicyArns"), role


@pytest.mark.parametrize("function", STEP_FUNCTIONS)
def test_the_steps_cannot_write_the_table_or_the_uploads(function: str) -> None:
    policy = policy_of(function)
    table = deployed().get_att("PhotosTable", "Arn")
    for action in TABLE_WRITES:
        assert not policy.allows(action, table), action
    assert not policy.allows("s3:PutObject", bucket_key(UPLOAD_KEY))
    assert not policy.allows("s3:DeleteObject", bucket_key(UPLOAD_KEY))
    assert policy.allows("s3:GetObject", bucket_key(UPLOAD_KEY))
    assert not policy.allows("s3:GetObject", bucket_key(DERIVATIVE_KEY))
    assert not policy.allows("sns:Publish", deployed().ref("PhotoEventsTopic"))


@pytest.mark.parametrize("function", ["ThumbnailFunction", "FilterFunction"])
def test_thumbnails_and_filters_write_under_derivatives_only(function: str) -> None:
    policy = policy_of(function)
    assert policy.allows("s3:PutObject", bucket_key(DERIVATIVE_KEY))
    for key in ("uploads/x/y.jpg", "elsewhere/y.jpg", "derivatives", "y.jpg"):
        assert not policy.allows("s3:PutObject", bucket_key(key)), key
    assert not policy.allows("s3:PutBucketPolicy", deployed().get_att("PhotosBucket", "Arn"))


def test_the_metadata_step_writes_nothing() -> None:
    policy = policy_of("MetadataFunction")
    for key in (UPLOAD_KEY, DERIVATIVE_KEY, "anything.jpg"):
        assert not policy.allows("s3:PutObject", bucket_key(key)), key
    for statement in policy.statements:
        assert set(statement.actions) <= {
            "s3:GetObject",
            "s3:GetObjectVersion",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
        }, statement


def test_the_api_stores_uploads_signs_derivative_links_and_deletes_photos_only() -> None:
    policy = policy_of("ApiFunction")
    stack = deployed()
    assert policy.allows("s3:PutObject", bucket_key(UPLOAD_KEY))
    assert policy.allows("s3:GetObject", bucket_key(DERIVATIVE_KEY))
    assert not policy.allows("s3:PutObject", bucket_key(DERIVATIVE_KEY))
    assert not policy.allows("s3:GetObject", bucket_key(UPLOAD_KEY))
    assert not policy.allows("states:StartExecution", stack.ref("PhotoWorkflow"))
    # Deletion: every version of a photo's objects, found by listing its prefix
    for key in (UPLOAD_KEY, DERIVATIVE_KEY):
        assert policy.allows("s3:DeleteObjectVersion", bucket_key(key)), key
    for key in ("elsewhere/y.jpg", "y.jpg"):
        assert not policy.allows("s3:DeleteObjectVersion", bucket_key(key)), key
    bucket = stack.get_att("PhotosBucket", "Arn")
    for prefix in ("uploads/0123456789abcdef0123456789abcdef/", "derivatives/0123/"):
        assert policy.allows("s3:ListBucketVersions", bucket, {"s3:prefix": prefix}), prefix
    assert not policy.allows("s3:ListBucketVersions", bucket, {"s3:prefix": ""})
    assert not policy.allows("s3:DeleteBucket", bucket)
    topic = stack.ref("PhotoEventsTopic")
    assert policy.allows("sns:Publish", topic)  # PhotoDeleted
    assert not policy.allows("sns:Publish", stack.ref("AlarmTopic"))
    key = stack.get_att("PhotoFlowKey", "Arn")
    assert policy.allows(
        "kms:GenerateDataKey", key, {"kms:EncryptionContext:aws:sns:topicArn": topic}
    )
    assert not policy.allows(
        "kms:Decrypt", key, {"kms:EncryptionContext:aws:sns:topicArn": "arn:other"}
    )


def test_the_api_reaches_photo_records_by_key_and_lists_through_the_owner_index_only() -> None:
    # The one role serves every user, so IAM cannot name "the caller's items" (a
    # dynamodb:LeadingKeys condition needs the caller's identity in the request's
    # credentials); what it can say is that records are reached by key (the function
    # then compares or conditions on the owner) and listed by the per-owner index only.
    policy = policy_of("ApiFunction")
    table = deployed().get_att("PhotosTable", "Arn")
    for action in ("GetItem", "UpdateItem", "DeleteItem"):
        assert policy.allows(f"dynamodb:{action}", table), action
    assert policy.allows("dynamodb:Query", f"{table}/index/ByOwner")
    for action in ("Scan", "Query", "PartiQLSelect", "BatchGetItem", "BatchWriteItem", "PutItem"):
        assert not policy.allows(f"dynamodb:{action}", table), action
    assert not policy.allows("dynamodb:Query", f"{table}/index/ByCreatedAt")
    assert not policy.allows("dynamodb:Scan", f"{table}/index/ByOwner")


def test_the_owner_index_is_keyed_by_owner_and_sorted_by_creation() -> None:
    table = deployed().properties("PhotosTable")
    [index] = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "ByOwner"]
    assert index["KeySchema"] == [
        {"AttributeName": "owner", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]


def test_start_workflow_starts_the_photo_workflow_and_nothing_else() -> None:
    policy = policy_of("StartWorkflowFunction")
    stack = deployed()
    workflow = stack.ref("PhotoWorkflow")
    assert policy.allows("states:StartExecution", workflow)
    assert not policy.allows("states:StartExecution", stack.arn("states", "stateMachine:other"))
    assert not policy.allows("states:StopExecution", workflow)
    assert policy.allows("sqs:ReceiveMessage", stack.get_att("IngestQueue", "Arn"))
    assert not policy.allows("sqs:ReceiveMessage", stack.get_att("ExecutionEventsQueue", "Arn"))
    # S3: reads the uploaded version and deletes refused versions of uploads, nothing more
    assert policy.allows("s3:GetObjectVersion", bucket_key(UPLOAD_KEY))
    assert policy.allows("s3:DeleteObjectVersion", bucket_key(UPLOAD_KEY))
    for action in ("s3:DeleteObject", "s3:PutObject"):
        assert not policy.allows(action, bucket_key(UPLOAD_KEY)), action
    for action in ("s3:GetObject", "s3:DeleteObjectVersion"):
        assert not policy.allows(action, bucket_key(DERIVATIVE_KEY)), action
    # DynamoDB: its record of started workflows; a photo's record only claimed (updated)
    started = stack.get_att("IdempotencyTable", "Arn")
    for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        assert policy.allows(f"dynamodb:{action}", started), action
    photos = stack.get_att("PhotosTable", "Arn")
    assert policy.allows("dynamodb:UpdateItem", photos)
    for action in ("GetItem", "PutItem", "DeleteItem", "Scan"):
        assert not policy.allows(f"dynamodb:{action}", photos), action


def test_the_reconciler_records_and_announces_failures_and_finishes_deletions_only() -> None:
    policy = policy_of("ReconcileFunction")
    stack = deployed()
    topic, key = stack.ref("PhotoEventsTopic"), stack.get_att("PhotoFlowKey", "Arn")
    assert policy.allows("dynamodb:UpdateItem", stack.get_att("PhotosTable", "Arn"))
    # photos deleted while processing: their record, and every version of their objects
    assert policy.allows("dynamodb:DeleteItem", stack.get_att("PhotosTable", "Arn"))
    for object_key in (UPLOAD_KEY, DERIVATIVE_KEY):
        assert policy.allows("s3:DeleteObjectVersion", bucket_key(object_key)), object_key
        assert not policy.allows("s3:GetObject", bucket_key(object_key)), object_key
        assert not policy.allows("s3:PutObject", bucket_key(object_key)), object_key
    assert not policy.allows("s3:DeleteObjectVersion", bucket_key("elsewhere/y.jpg"))
    # handled events: its own idempotency records, created and cleared
    handled = stack.get_att("IdempotencyTable", "Arn")
    for action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        assert policy.allows(f"dynamodb:{action}", handled), action
    assert not policy.allows("dynamodb:PutItem", stack.get_att("PhotosTable", "Arn"))
    assert not policy.allows("dynamodb:Scan", handled)
    # the sweep: stale photos by the newest-first index, how their executions ended
    photos = stack.get_att("PhotosTable", "Arn")
    assert policy.allows("dynamodb:Query", f"{photos}/index/ByCreatedAt")
    assert not policy.allows("dynamodb:Scan", photos)
    execution = stack.arn("states", f"execution:{stack.get_att('PhotoWorkflow', 'Name')}:x")
    assert policy.allows("states:DescribeExecution", execution)
    assert not policy.allows("states:StopExecution", execution)
    assert not policy.allows("states:DescribeExecution", stack.arn("states", "execution:other:x"))
    assert policy.allows("sns:Publish", topic)
    assert not policy.allows("sns:Publish", stack.ref("AlarmTopic"))
    # the key only for the events topic's encryption context
    assert policy.allows(
        "kms:GenerateDataKey", key, {"kms:EncryptionContext:aws:sns:topicArn": topic}
    )
    assert not policy.allows(
        "kms:GenerateDataKey", key, {"kms:EncryptionContext:aws:sns:topicArn": "arn:other"}
    )
    s3_actions = {a for s in policy.statements for a in s.actions if a.startswith("s3:")}
    assert s3_actions == {"s3:ListBucketVersions", "s3:DeleteObjectVersion"}


def test_the_workflow_invokes_exactly_its_steps_and_touches_no_storage() -> None:
    stack = deployed()
    policy = policy_of("PhotoWorkflow")
    for function in ALL_FUNCTIONS:
        arn = stack.get_att(function, "Arn")
        assert policy.allows("lambda:InvokeFunction", arn) == (function in STEP_FUNCTIONS), function
    assert not policy.allows("lambda:InvokeFunction", stack.arn("lambda", "function:other"))
    assert policy.allows("dynamodb:UpdateItem", stack.get_att("PhotosTable", "Arn"))
    assert not policy.allows("dynamodb:DeleteItem", stack.get_att("PhotosTable", "Arn"))
    assert policy.allows("sns:Publish", stack.ref("PhotoEventsTopic"))
    assert not any(a.startswith("s3:") for s in policy.statements for a in s.actions)
    trust = stack.properties("PhotoWorkflowRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]


def test_reprocessing_runs_its_own_children_the_steps_and_reads_and_writes_its_own_files() -> None:
    stack = deployed()
    policy = policy_of("ReprocessWorkflow")
    machine = stack.ref("ReprocessWorkflow")
    assert machine == stack.arn("states", "stateMachine:photoflow-dev-reprocess")
    assert policy.allows("states:StartExecution", machine)
    assert not policy.allows("states:StartExecution", stack.ref("PhotoWorkflow"))
    child = stack.arn("states", "execution:photoflow-dev-reprocess/Reprocess:1")
    assert policy.allows("states:DescribeExecution", child)
    assert policy.allows("states:RedriveExecution", child)
    assert not policy.allows("states:RedriveExecution", stack.arn("states", "execution:other:1"))
    reconciler = "ReconcileFunction"
    for function in ALL_FUNCTIONS:
        arn = stack.get_att(function, "Arn")
        expected = function in STEP_FUNCTIONS or function == reconciler
        assert policy.allows("lambda:InvokeFunction", arn) == expected, function
    table = stack.get_att("PhotosTable", "Arn")
    assert policy.allows("dynamodb:UpdateItem", table)
    assert not any(policy.allows(a, table) for a in ("dynamodb:DeleteItem", "dynamodb:Scan"))
    assert policy.allows("s3:GetObject", bucket_key("reprocess/manifests/run.csv"))
    assert policy.allows("s3:PutObject", bucket_key("reprocess/results/run/manifest.json"))
    for key in (UPLOAD_KEY, DERIVATIVE_KEY):
        assert not policy.allows("s3:GetObject", bucket_key(key)), key
        assert not policy.allows("s3:PutObject", bucket_key(key)), key
    assert not policy.allows("s3:PutObject", bucket_key("reprocess/manifests/run.csv"))


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_each_function_writes_only_its_own_log_group(function: str) -> None:
    stack = deployed()
    policy = policy_of(function)
    own = stack.properties(function)["LoggingConfig"]["LogGroup"]
    for other in stack.of_type("AWS::Logs::LogGroup"):
        stream = stack.arn("logs", f"log-group:{stack.name(other)}:log-stream:2026/01/01/abc")
        assert policy.allows("logs:PutLogEvents", stream) == (stack.name(other) == own), other
    assert not policy.allows("logs:CreateLogGroup", stack.arn("logs", f"log-group:{own}"))


def test_no_statement_is_on_every_resource_unless_aws_requires_it() -> None:
    stack = deployed()
    for role in stack.of_type("AWS::IAM::Role"):
        for statement in identity_policy(stack, role).statements:
            if "*" in statement.resources:
                unexplained = [a for a in statement.actions if a not in STAR_ALLOWED]
                assert not unexplained, f"{role} {statement.sid}: {unexplained} on *"
            assert all("*" not in a.split(":", 1)[1] for a in statement.actions), (
                role,
                statement,
            )


# ---------------------------------------------------------------- resource policies
def bucket_policy() -> Policy:
    document = deployed().properties("PhotosBucketPolicy")["PolicyDocument"]
    return Policy([Statement.parse(s) for s in document["Statement"]])


def test_the_bucket_refuses_requests_without_tls() -> None:
    policy = bucket_policy()
    bucket = deployed().get_att("PhotosBucket", "Arn")
    for resource in (bucket, bucket_key(UPLOAD_KEY), bucket_key(DERIVATIVE_KEY)):
        for action in ("s3:GetObject", "s3:PutObject", "s3:ListBucket"):
            assert policy.denies(action, resource, {"aws:SecureTransport": "false"})
            assert not policy.denies(
                action, resource, {"aws:SecureTransport": "true", "s3:signatureAge": "1000"}
            )
    assert not any(s.effect == "Allow" for s in policy.statements), "no public grants"


def test_derivative_links_stop_working_after_the_link_expiry() -> None:
    stack = deployed()
    policy = bucket_policy()
    expiry_ms = int(stack.parameters["LinkExpirySeconds"]) * 1000
    fresh = {"aws:SecureTransport": "true", "s3:signatureAge": str(expiry_ms - 1)}
    stale = {"aws:SecureTransport": "true", "s3:signatureAge": str(expiry_ms + 1)}
    assert not policy.denies("s3:GetObject", bucket_key(DERIVATIVE_KEY), fresh)
    assert policy.denies("s3:GetObject", bucket_key(DERIVATIVE_KEY), stale)
    assert not policy.denies("s3:GetObject", bucket_key(UPLOAD_KEY), stale)
    # and the API signs its links for that same lifetime
    environment = stack.properties("ApiFunction")["Environment"]["Variables"]
    assert int(environment["URL_EXPIRY_SECONDS"]) * 1000 == expiry_ms <= 3600 * 1000


def test_queue_policies_admit_only_their_source() -> None:
    # Every service allowed to send to a queue is pinned to the resource that sends.
    stack = deployed()
    for logical_id in stack.of_type("AWS::SQS::QueuePolicy"):
        for raw in stack.properties(logical_id)["PolicyDocument"]["Statement"]:
            statement = Statement.parse(raw)
            assert statement.principals.keys() == {"Service"}, logical_id
            conditions = {key for test in statement.conditions.values() for key in test}
            assert "aws:SourceArn" in conditions, logical_id


def queue_policy(stack: DeployedNames, queue: str) -> Policy:
    """The statements of every queue policy that applies to ``queue``."""
    return Policy(
        [
            Statement.parse(raw)
            for logical_id in stack.of_type("AWS::SQS::QueuePolicy")
            if stack.ref(queue) in stack.properties(logical_id)["Queues"]
            for raw in stack.properties(logical_id)["PolicyDocument"]["Statement"]
        ]
    )


@pytest.mark.parametrize("subscriber", SHAPE.queue_subscribers, ids=lambda s: s.subscription)
def test_each_queue_subscriber_admits_its_topic_only_and_has_both_dead_letter_queues(
    subscriber: Subscriber,
) -> None:
    # Given an SQS subscription of the template (each one the template declares)
    stack = deployed()
    topic = stack.ref(subscriber.topic)
    other_topic = stack.arn("sns", "other")
    # Then SNS may send to its queue and to the subscription's dead-letter queue, for
    # that topic only
    for queue in (subscriber.queue, subscriber.redrive_queue):
        assert queue is not None, subscriber
        policy, arn = queue_policy(stack, queue), stack.get_att(queue, "Arn")
        assert policy.allows("sqs:SendMessage", arn, {"aws:SourceArn": topic}), queue
        assert not policy.allows("sqs:SendMessage", arn, {"aws:SourceArn": other_topic}), queue
        senders = {
            p
            for s in policy.statements
            if s.matches("sqs:SendMessage", arn, None)
            for p in s.principals.get("Service", ())
        }
        assert senders == {"sns.amazonaws.com"}, queue
    # and what its consumer cannot handle goes to a dead-letter queue of its own
    assert subscriber.queue_dead_letter in SHAPE.dead_letter_queues, subscriber
    properties = stack.properties(subscriber.subscription)
    assert properties["RawMessageDelivery"] in (True, "true"), subscriber  # the event as sent
    assert subscriber.events, "a subscriber names the events it takes (FilterPolicy)"


def test_every_queue_has_a_dead_letter_queue_or_is_one() -> None:
    dead_letter_queues = set(SHAPE.dead_letter_queues)
    for queue in SHAPE.queues:
        assert queue in dead_letter_queues or queue in SHAPE.dead_letters, queue


def test_the_key_is_rotated_and_serves_only_its_topics_and_log_groups() -> None:
    stack = deployed()
    key = stack.properties("PhotoFlowKey")
    assert key["EnableKeyRotation"] is True
    statements = [Statement.parse(s) for s in key["KeyPolicy"]["Statement"]]
    services = {p for s in statements for p in s.principals.get("Service", ())}
    assert services == {"cloudwatch.amazonaws.com", f"logs.{REGION}.amazonaws.com"}
    for statement in statements:
        if "Service" in statement.principals:
            assert statement.conditions, statement.sid  # pinned to our topic or log groups
        else:
            assert statement.principals == {"AWS": (f"arn:aws:iam::{ACCOUNT}:root",)}


# ---------------------------------------------------------------- encryption, logs, tracing
def test_everything_that_stores_data_is_encrypted() -> None:
    stack = deployed()
    for queue in stack.of_type("AWS::SQS::Queue"):
        properties = stack.properties(queue)
        assert properties.get("SqsManagedSseEnabled") or properties.get("KmsMasterKeyId"), queue
    for topic in stack.of_type("AWS::SNS::Topic"):
        assert stack.properties(topic)["KmsMasterKeyId"] == stack.ref("PhotoFlowKey"), topic
    for log_group in stack.of_type("AWS::Logs::LogGroup"):
        properties = stack.properties(log_group)
        assert properties["KmsKeyId"] == stack.get_att("PhotoFlowKey", "Arn"), log_group
        assert int(properties["RetentionInDays"]) == int(stack.parameters["LogRetentionDays"])
    table = stack.properties("PhotosTable")
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    bucket = stack.properties("PhotosBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert [rule["AllowedOrigins"] for rule in bucket["CorsConfiguration"]["CorsRules"]] == [
        [ORIGIN]
    ]


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_every_function_is_traced_and_logs_to_a_group_with_retention(function: str) -> None:
    stack = deployed()
    properties = stack.properties(function)
    assert properties["TracingConfig"] == {"Mode": "Active"}
    log_groups = {stack.name(g) for g in stack.of_type("AWS::Logs::LogGroup")}
    assert properties["LoggingConfig"]["LogGroup"] in log_groups


def test_the_workflow_is_traced_and_logs_errors() -> None:
    properties = deployed().properties("PhotoWorkflow")
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ERROR"


# ---------------------------------------------------------------- the API
def methods(stack: DeployedNames) -> Iterable[tuple[str, str, dict[str, Any]]]:
    body = stack.properties("PhotosApi")["Body"]
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


@pytest.mark.parametrize(
    ("api_auth", "kind"), [("COGNITO", "cognito_user_pools"), ("AWS_IAM", "awsSigv4")]
)
def test_every_method_requires_the_chosen_authentication(api_auth: str, kind: str) -> None:
    stack = deployed(api_auth)
    body = stack.properties("PhotosApi")["Body"]
    checked = 0
    for path, method, operation in methods(stack):
        if method == "options":  # CORS preflight: browsers send no credentials
            assert operation["x-amazon-apigateway-integration"]["type"] == "mock", path
            continue
        [requirement] = operation["security"]
        [name] = requirement
        assert body["securityDefinitions"][name]["x-amazon-apigateway-authtype"] == kind
        checked += 1
    assert checked == 5


def test_cors_names_the_pages_origin_everywhere() -> None:
    stack = deployed()
    body = stack.properties("PhotosApi")["Body"]
    for _path, method, operation in methods(stack):
        if method == "options":
            parameters = operation["x-amazon-apigateway-integration"]["responses"]["default"][
                "responseParameters"
            ]
            assert parameters["method.response.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
            assert (
                "Authorization" in parameters["method.response.header.Access-Control-Allow-Headers"]
            )
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = body["x-amazon-apigateway-gateway-responses"][kind]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{ORIGIN}'"
    environment = stack.properties("ApiFunction")["Environment"]["Variables"]
    assert environment["ALLOWED_ORIGIN"] == ORIGIN


def test_the_api_is_throttled() -> None:
    [setting] = deployed().properties("PhotosApiStage")["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert 0 < setting["ThrottlingRateLimit"] <= setting["ThrottlingBurstLimit"] <= 100


# ---------------------------------------------------------------- alarms
def alarms() -> list[dict[str, Any]]:
    stack = deployed()
    return [stack.properties(a) for a in stack.of_type("AWS::CloudWatch::Alarm")]


def alarmed(namespace: str, metric: str) -> set[str]:
    return {
        a["Dimensions"][0]["Value"]
        for a in alarms()
        if (a["Namespace"], a["MetricName"]) == (namespace, metric)
    }


def test_every_dead_letter_queue_function_and_failure_raises_an_alarm() -> None:
    stack = deployed()
    dead_letter_queues = {stack.name(q) for q in SHAPE.dead_letter_queues}
    assert alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible") == dead_letter_queues
    functions = {stack.name(f) for f in ALL_FUNCTIONS}
    assert alarmed("AWS/Lambda", "Errors") == functions
    assert alarmed("AWS/Lambda", "Throttles") == functions
    workflow = {stack.ref("PhotoWorkflow")}
    assert alarmed("AWS/States", "ExecutionsFailed") == workflow
    assert alarmed("AWS/States", "ExecutionsTimedOut") == workflow
    for alarm in alarms():
        assert alarm["AlarmActions"] == [stack.ref("AlarmTopic")], alarm["AlarmDescription"]
    assert stack.properties("AlarmTopic")["KmsMasterKeyId"] == stack.ref("PhotoFlowKey")
