"""`photoflow publish-page`: web/ uploaded to a stack's page bucket, pointed at its API.

Run against the local stack's own endpoint, with a CloudFormation stack there whose
outputs and parameters are those a deployed PhotoFlow stack has.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from photoflow_local.stack import LocalStack
from tests.support import ROOT, photoflow

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _describe_like_a_deployed_stack(
    cloudformation: Any, name: str, outputs: dict[str, str], max_photo_bytes: str
) -> None:
    body = {
        "Parameters": {
            "MaxPhotoBytes": {"Type": "Number"},
            "DirectUploadMaxBytes": {"Type": "Number"},
        },
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Parameters=[
            {"ParameterKey": "MaxPhotoBytes", "ParameterValue": max_photo_bytes},
            {"ParameterKey": "DirectUploadMaxBytes", "ParameterValue": "1048576"},
        ],
    )


def test_the_page_and_its_config_land_in_the_stacks_page_bucket(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    # Given a deployed stack's outputs naming its page bucket and API
    bucket = local_stack.physical_id("PageBucket")
    cloudformation = local_stack.client("cloudformation")
    _describe_like_a_deployed_stack(
        cloudformation,
        "page-ok",
        {
            "PageBucketName": bucket,
            "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
            "PageUrl": "https://d111111abcdef8.cloudfront.net",
            "AuthDomainUrl": "https://photoflow-dev-1.auth.us-east-1.amazoncognito.com",
            "UserPoolClientId": "4v1qexample0client0id0abcd",
        },
        "20971520",
    )

    # When the page is published from the repository's web/
    done = photoflow(
        tmp_path,
        "publish-page",
        "--stack-name",
        "page-ok",
        "--web",
        str(ROOT / "web"),
        "--endpoint-url",
        local_stack.endpoint_url,
        env=CREDENTIALS,
    )

    # Then every file is there, config.js points at the stack's API with its limits, and
    # its sign-in at the stack's managed login, returning to the page (no token anywhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published 5 files to s3://" in done.stdout
    assert "the page: https://d111111abcdef8.cloudfront.net" in done.stdout
    s3 = local_stack.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["app.js", "auth.js", "config.js", "index.html", "style.css"]
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["Body"].read() == (ROOT / "web" / "index.html").read_bytes()
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    config = s3.get_object(Bucket=bucket, Key="config.js")
    assert config["ContentType"] == "text/javascript; charset=utf-8"
    settings = re.search(r"Object\.assign\(\s*(\{.*?\}),", config["Body"].read().decode(), re.S)
    assert settings is not None
    assert json.loads(settings.group(1)) == {
        "apiBaseUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
        "maxBytes": 20971520,
        "directUploadMaxBytes": 1048576,
        "auth": {
            "domain": "https://photoflow-dev-1.auth.us-east-1.amazoncognito.com",
            "clientId": "4v1qexample0client0id0abcd",
            "redirectUri": "https://d111111abcdef8.cloudfront.net/",
            "logoutUri": "https://d111111abcdef8.cloudfront.net/",
        },
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--stack-name", "page-without-bucket"], "stack page-without-bucket has no output"),
        (["--stack-name", "no-such-stack"], "not published:"),
    ],
)
def test_a_stack_it_cannot_publish_to_is_one_line_and_exit_1(
    local_stack: LocalStack, tmp_path: Path, arguments: list[str], message: str
) -> None:
    if "page-without-bucket" in arguments:
        _describe_like_a_deployed_stack(
            local_stack.client("cloudformation"),
            "page-without-bucket",
            {"ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/dev"},
            "1048576",
        )

    done = photoflow(
        tmp_path,
        "publish-page",
        *arguments,
        "--endpoint-url",
        local_stack.endpoint_url,
        env=CREDENTIALS,
    )

    assert done.returncode == 1
    assert message in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
