"""Authentication, CORS and observability as deployed, and the template created by CloudFormation.

The local stack honours the template's ApiAuth with one local test identity
(photoflow_local.api); these tests call it with and without that identity, and
check the front end's authorization for the modes the template does not
default to. The last test creates the translated template in moto's
CloudFormation, in a process of its own.
"""

from __future__ import annotations

import datetime
import io
import json
import multiprocessing
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from http import HTTPStatus
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from photoflow_local.api import LocalApi, Refused, authorize
from photoflow_local.client import ApiError, BearerToken, PhotosClient, local_test_identity
from photoflow_local.deploy import ApiDefinition, ApiRoute
from photoflow_local.identity import LOCAL_TEST_PASSWORD, LOCAL_TEST_USER
from photoflow_local.stack import LocalStack
from photoflow_local.template import LOCAL_CODE_BUCKET, load_sam, translate
from tests.support import ROOT

AUTH_TYPES = {"COGNITO": "COGNITO_USER_POOLS", "AWS_IAM": "AWS_IAM"}


# ---------------------------------------------------------------- the local stack, as deployed
def test_every_route_requires_the_templates_default_authentication(local_stack: LocalStack) -> None:
    default = load_sam(ROOT / "template.yaml")["Parameters"]["ApiAuth"]["Default"]
    routes = [route for api in local_stack.stack.apis.values() for route in api.routes]
    functions = [route for route in routes if route.mock is None]
    assert len(functions) == 5
    assert {route.authorization for route in functions} == {AUTH_TYPES[default]}
    # and only CORS preflights, answered by API Gateway itself, go without
    preflights = [route for route in routes if route.mock is not None]
    assert {(route.method, route.authorization) for route in preflights} == {("OPTIONS", "NONE")}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "a.b.c"}],
    ids=["no credentials", "not a token", "not a raw token"],
)
def test_requests_without_the_identity_are_refused_readably(
    local_stack: LocalStack, headers: dict[str, str]
) -> None:
    # Given the page's origin, which the stack's CORS names
    origin = local_stack.stack.parameters["AllowedOrigin"]

    # When the API is called without valid credentials
    for method, path in [("GET", "/photos"), ("POST", "/photos"), ("GET", f"/photos/{'0' * 32}")]:
        response = requests.request(
            method,
            local_stack.api_url + path,
            headers={**headers, "Origin": origin},
            data=b"\xff\xd8\xff" if method == "POST" else None,
            timeout=10,
        )

        # Then API Gateway's 401 comes back, readable by the page (its gateway responses' CORS)
        assert response.status_code == HTTPStatus.UNAUTHORIZED, (method, path)
        assert response.json() == {"message": "Unauthorized"}
        assert response.headers["Access-Control-Allow-Origin"] == origin


def test_a_signed_in_users_token_gets_through(local_stack: LocalStack) -> None:
    origin = local_stack.stack.parameters["AllowedOrigin"]
    token = local_stack.sign_in(LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)
    response = requests.get(
        f"{local_stack.api_url}/photos",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {token}", "Origin": origin},
        timeout=10,
    )
    assert response.status_code == HTTPStatus.OK, response.text
    assert "photos" in response.json()
    # and the function's CORS answers the page's origin, and no other
    assert response.headers["Access-Control-Allow-Origin"] == origin
    elsewhere = requests.get(
        f"{local_stack.api_url}/photos",
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
        timeout=10,
    )
    assert elsewhere.status_code == HTTPStatus.OK
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_the_client_presents_the_local_identity_by_default(local_stack: LocalStack) -> None:
    assert "photos" in PhotosClient(local_stack.api_url).photos(limit=1)
    with pytest.raises(ApiError) as refused:
        PhotosClient(local_stack.api_url, auth=None).photos(limit=1)
    assert refused.value.status == HTTPStatus.UNAUTHORIZED


def test_an_unknown_route_is_api_gateways_403(local_stack: LocalStack) -> None:
    response = requests.delete(f"{local_stack.api_url}/photos", timeout=10)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Missing Authentication Token"}


def test_alarms_and_log_groups_are_created(local_stack: LocalStack) -> None:
    cloudwatch = local_stack.client("cloudwatch")
    alarms = cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]
    topic = local_stack.output("AlarmTopicArn")
    assert len(alarms) == len(local_stack.stack.of_type("AWS::CloudWatch::Alarm")) >= 19
    assert {tuple(a["AlarmActions"]) for a in alarms} == {(topic,)}
    logs = local_stack.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/photoflow-")["logGroups"]
    retention = int(local_stack.stack.parameters["LogRetentionDays"])
    # one per function, whatever functions the template has (six when this was written)
    assert len(groups) == len(local_stack.stack.of_type("AWS::Lambda::Function")) >= 6
    assert {g["retentionInDays"] for g in groups} == {retention}


METRICS_SCRIPT = """
from photoflow.observability import count_ended_execution, metrics, timed_step

@timed_step("thumbnail")
def step(fail):
    if fail:
        raise ValueError("corrupt")
    return "done"

assert step(False) == "done"
try:
    step(True)
except ValueError:
    pass
for status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "SUCCEEDED"):
    count_ended_execution(status)
metrics.flush_metrics()
"""


def test_steps_and_ended_executions_emit_their_metrics() -> None:
    # In a process of its own: Powertools reads its namespace when photoflow.observability is
    # first imported, which must not happen here before the session's local stack sets it.
    environment = {
        **os.environ,
        "POWERTOOLS_METRICS_NAMESPACE": "PhotoFlow",
        "POWERTOOLS_SERVICE_NAME": "photoflow",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", METRICS_SCRIPT],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    emitted = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    # Then each run of a step, the failed one too, reported its duration with its step
    durations = [e for e in emitted if "StepDuration" in e]
    assert len(durations) == 2
    for blob in durations:
        [directive] = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "PhotoFlow"
        assert directive["Metrics"] == [{"Name": "StepDuration", "Unit": "Milliseconds"}]
        assert blob["step"] == "thumbnail"
        assert blob["StepDuration"][0] >= 0

    # and ended executions counted as photos processed and failed
    [counts] = [e for e in emitted if "PhotosProcessed" in e]
    assert counts["PhotosProcessed"] == [1.0, 1.0]
    assert counts["PhotosFailed"] == [1.0, 1.0]
    assert "step" not in counts


# ---------------------------------------------------------------- the front end's check, each mode
def route(authorization: str) -> ApiRoute:
    return ApiRoute("api", "GET", "/photos", "ApiFunction", authorization)


def signed_headers(
    url: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    secret: str = "local",
    key: str = "local",
    at: datetime.datetime | None = None,
) -> dict[str, list[str]]:
    """Headers of a request signed by botocore, as the front end receives them (lowercase)."""
    request = AWSRequest(method=method, url=url, data=body)
    signer = SigV4Auth(Credentials(key, secret), "execute-api", "us-east-1")
    if at is None:
        signer.add_auth(request)
    else:
        # botocore stamps the current time; sign as if at ``at``
        request.context["timestamp"] = at.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        canonical = signer.canonical_request(request)
        signature = signer.signature(signer.string_to_sign(request, canonical), request)
        scope = f"{key}/{at:%Y%m%d}/us-east-1/execute-api/aws4_request"
        signed = signer.signed_headers(signer.headers_to_sign(request))
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature={signature}"
        )
    headers = {name.lower(): [value] for name, value in request.headers.items()}
    headers["host"] = [url.split("/")[2]]
    return headers


URL = "http://127.0.0.1:3000/photos?limit=2"


def test_iam_mode_accepts_a_signature_made_with_the_local_identity() -> None:
    caller = authorize(route("AWS_IAM"), "GET", URL, signed_headers(URL), b"")
    assert caller.identity["accessKey"] == "local"
    assert caller.identity["userArn"].endswith(":user/local-test-user")


def test_iam_mode_checks_the_body_too() -> None:
    body = b'{"filename": "a.jpg"}'
    headers = signed_headers(URL, method="POST", body=body)
    authorize(route("AWS_IAM"), "POST", URL, headers, body)
    with pytest.raises(Refused) as refused:
        authorize(route("AWS_IAM"), "POST", URL, headers, body + b" ")
    assert refused.value.status == HTTPStatus.FORBIDDEN
    assert "signature" in refused.value.message


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing Authentication Token"),
        ({"authorization": ["Bearer local-test-token"]}, "Authorization header requires"),
        (signed_headers(URL, secret="wrong"), "signature we calculated does not match"),
        (
            signed_headers(URL, key="AKIAELSEWHERE"),
            "security token included in the request is invalid",
        ),
        (
            signed_headers(URL, at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)),
            "Signature expired",
        ),
        (signed_headers("http://127.0.0.1:3000/photos?limit=3"), "signature we calculated"),
    ],
    ids=["unsigned", "a bearer token", "wrong secret", "unknown key", "expired", "other query"],
)
def test_iam_mode_refuses_anything_else_with_403(
    headers: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(Refused) as refused:
        authorize(route("AWS_IAM"), "GET", URL, headers, b"")
    assert refused.value.status == HTTPStatus.FORBIDDEN
    assert message in refused.value.message


def test_cognito_mode_takes_a_pool_token_with_or_without_bearer(local_stack: LocalStack) -> None:
    pool = local_stack.user_pool
    token = local_stack.sign_in(LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)
    for value in (f"Bearer {token}", token):
        caller = authorize(
            route("COGNITO_USER_POOLS"), "GET", URL, {"authorization": [value]}, b"", None, pool
        )
        assert caller.authorizer is not None
        assert caller.authorizer["claims"]["cognito:username"] == "local-test-user"
        assert caller.authorizer["claims"]["token_use"] == "id"
    # without a pool to check it against, no token is taken
    with pytest.raises(Refused) as refused:
        authorize(route("COGNITO_USER_POOLS"), "GET", URL, {"authorization": [token]}, b"")
    assert refused.value.status == HTTPStatus.UNAUTHORIZED
    with pytest.raises(Refused) as refused:
        authorize(route("COGNITO_USER_POOLS"), "GET", URL, signed_headers(URL), b"", None, pool)
    assert (refused.value.status, refused.value.message) == (
        HTTPStatus.UNAUTHORIZED,
        "Unauthorized",
    )


def test_a_method_without_authorization_lets_anyone_in() -> None:
    caller = authorize(route("NONE"), "GET", URL, {}, b"")
    assert caller.identity == {} and caller.authorizer is None


class EchoFunction:
    """Stands in for the in-process Lambdas: answers with the requestContext it was given."""

    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]:
        context = json.loads(event)["requestContext"]
        response = {"statusCode": 200, "body": json.dumps(context)}
        return json.dumps(response), False, ""


@pytest.fixture
def iam_api() -> Iterator[LocalApi]:
    definition = ApiDefinition(api_id="iamapi", logical_id="PhotosApi", stage="dev")
    definition.routes.append(ApiRoute("iamapi", "GET", "/photos", "ApiFunction", "AWS_IAM"))
    api = LocalApi(definition, EchoFunction())  # type: ignore[arg-type]
    api.start()
    yield api
    api.stop()


def test_the_client_signs_for_an_iam_api_over_http(iam_api: LocalApi) -> None:
    # Given a front end whose method requires AWS_IAM (ApiAuth=AWS_IAM)
    signed = PhotosClient(iam_api.url, auth=local_test_identity("AWS_IAM"))

    # When the client signs with the local identity, the function sees the caller
    context = signed.photos(limit=2)
    assert context["identity"]["accessKey"] == "local"

    # and without a signature, or with the Cognito identity, API Gateway's 403
    for auth in (None, BearerToken("an.id.token")):
        with pytest.raises(ApiError) as refused:
            PhotosClient(iam_api.url, auth=auth).photos(limit=2)
        assert refused.value.status == HTTPStatus.FORBIDDEN


# ---------------------------------------------------------------- CloudFormation smoke test
# Resource types moto's CloudFormation does not create (moto 5.2.5), and why it is fine to
# leave them out of a smoke test; every one of them is created by the local stack's own
# deployer, and checked by tests/unit/test_policies.py.
NOT_IN_MOTO_CLOUDFORMATION = {
    "AWS::ApiGateway::Stage": "no CloudFormation model in moto",
    "AWS::ApiGateway::Deployment": "moto's RestApi ignores the OpenAPI Body, so it has no methods",
    "AWS::CloudWatch::Alarm": "no CloudFormation model in moto",
    "AWS::CloudFront::Distribution": "no CloudFormation model in moto",
    "AWS::CloudFront::OriginAccessControl": "no CloudFormation model in moto",
    "AWS::Cognito::UserPool": "no CloudFormation model in moto",
    "AWS::Cognito::UserPoolClient": "no CloudFormation model in moto",
    "AWS::Cognito::UserPoolDomain": "no CloudFormation model in moto",
    "AWS::Cognito::ManagedLoginBranding": "no CloudFormation model in moto",
    "AWS::S3::BucketPolicy": "no CloudFormation model in moto",
    "AWS::SNS::Subscription": "no CloudFormation model in moto",
    "AWS::SQS::QueuePolicy": "no CloudFormation model in moto",
}


def _without(resources: dict[str, Any], dropped: set[str]) -> dict[str, Any]:
    """``resources`` less ``dropped``, every reference to a dropped resource a placeholder."""

    def scrub(value: Any) -> Any:
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if not isinstance(value, dict):
            return value
        if value.keys() == {"Ref"} and value["Ref"] in dropped:
            return f"{value['Ref']}-not-created"
        if value.keys() == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            logical_id = target.split(".")[0] if isinstance(target, str) else target[0]
            if logical_id in dropped:
                return f"arn:aws:placeholder:us-east-1:123456789012:{logical_id}"
        if value.keys() == {"Fn::Sub"}:
            argument = value["Fn::Sub"]
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            text = re.sub(
                r"\$\{(\w+)(\.\w+)?\}",
                lambda m: f"{m[1]}-not-created" if m[1] in dropped else m[0],
                text,
            )
            return {"Fn::Sub": [text, scrub(variables)] if variables else text}
        if "DependsOn" in value:
            depends = value["DependsOn"]
            kept = [
                d for d in ([depends] if isinstance(depends, str) else depends) if d not in dropped
            ]
            value = {k: v for k, v in value.items() if k != "DependsOn"}
            if kept:
                value["DependsOn"] = kept
        return {k: scrub(v) for k, v in value.items()}

    return {k: scrub(r) for k, r in resources.items() if k not in dropped}


def create_in_moto(
    template_body: str, code_keys: list[str], parameters: dict[str, str]
) -> dict[str, Any]:
    """Create the stack in moto's CloudFormation; run in a process of its own (mock_aws
    resets moto's state, which the session's local stack shares when in the same process)."""
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=LOCAL_CODE_BUCKET)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
        for key in code_keys:
            s3.put_object(Bucket=LOCAL_CODE_BUCKET, Key=key, Body=code.getvalue())
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName="photoflow",
            TemplateBody=template_body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        [stack] = cloudformation.describe_stacks(StackName="photoflow")["Stacks"]
        resources = cloudformation.list_stack_resources(StackName="photoflow")
        key_ids = [k["KeyId"] for k in boto3.client("kms", "us-east-1").list_keys()["Keys"]]
        return {
            "status": stack["StackStatus"],
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            "resources": {
                r["LogicalResourceId"]: (r["ResourceType"], r["ResourceStatus"])
                for r in resources["StackResourceSummaries"]
            },
            "rotated_keys": sum(
                boto3.client("kms", "us-east-1").get_key_rotation_status(KeyId=k)[
                    "KeyRotationEnabled"
                ]
                for k in key_ids
            ),
            "state_machines": len(
                boto3.client("stepfunctions", "us-east-1").list_state_machines()["stateMachines"]
            ),
        }


def test_the_translated_template_creates_in_cloudformation() -> None:
    """The SAM translator's output, as CloudFormation receives it from `sam deploy`, created by
    moto's CloudFormation (not our deployer). Types moto cannot create are left out, each for the
    reason in NOT_IN_MOTO_CLOUDFORMATION, with references to them replaced by placeholders; moto's
    RestApi also needs the Name that CloudFormation takes from the OpenAPI title."""
    parameters = {"AllowedOrigin": "https://photos.example.com"}
    translated = translate(ROOT / "template.yaml", parameters)
    dropped = {
        k for k, r in translated.resources.items() if r["Type"] in NOT_IN_MOTO_CLOUDFORMATION
    }
    resources = _without(translated.resources, dropped)
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            resource["Properties"].setdefault("Name", "photoflow")
    body = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": translated.parameters,
        "Conditions": translated.conditions,
        "Resources": resources,
        "Outputs": _without(translated.outputs, dropped),
    }
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as process:
        created = process.submit(
            create_in_moto, json.dumps(body), list(translated.code_paths), parameters
        ).result(timeout=120)

    assert created["status"] == "CREATE_COMPLETE"
    # Only the layer of the default Architecture (x86_64) is created; moto lists the
    # resource its condition skipped as an entry with no logical id and no type.
    assert created["resources"].pop("") == ("", "CREATE_COMPLETE")
    skipped = {k for k, r in resources.items() if r.get("Condition") == "IsArm64"}
    assert len(skipped) == 1
    assert set(created["resources"]) == set(resources) - skipped
    assert {status for _, status in created["resources"].values()} == {"CREATE_COMPLETE"}
    core = {
        "PhotosBucket": "AWS::S3::Bucket",
        "PhotosTable": "AWS::DynamoDB::Table",
        "PhotoWorkflow": "AWS::StepFunctions::StateMachine",
        "PhotoEventsTopic": "AWS::SNS::Topic",
        "IngestQueue": "AWS::SQS::Queue",
        "PhotoFlowKey": "AWS::KMS::Key",
        "ThumbnailFunction": "AWS::Lambda::Function",
        "ThumbnailFunctionRole": "AWS::IAM::Role",
        "PhotosApi": "AWS::ApiGateway::RestApi",
    }
    for logical_id, kind in core.items():
        assert created["resources"][logical_id][0] == kind
    assert created["state_machines"] == 2  # the photo workflow and the reprocessing one
    assert created["rotated_keys"] >= 1
    assert created["outputs"]["PhotosBucketName"].startswith("photoflow-dev-")
