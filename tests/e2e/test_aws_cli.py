"""The local AWS endpoint, used with the AWS CLI as a developer would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from photoflow_local.client import PhotosClient
from photoflow_local.stack import LocalStack
from tests.photos import make_photo


def aws(local_stack: LocalStack, *args: str) -> Any:
    executable = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    assert executable, "the awscli package is a pinned dev dependency"
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [executable, "--endpoint-url", local_stack.endpoint_url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_executions_and_records_are_visible_to_the_aws_cli(local_stack: LocalStack) -> None:
    client = PhotosClient(local_stack.api_url)
    photo_id = client.upload_bytes(make_photo(800, 600), "cli.jpg")["photoId"]
    assert client.wait(photo_id, timeout=60)["status"] == "COMPLETED"

    listed = aws(
        local_stack,
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        local_stack.output("PhotoWorkflowArn"),
    )
    mine = [e for e in listed["executions"] if photo_id in e["name"]]
    assert [e["status"] for e in mine] == ["SUCCEEDED"]

    item = aws(
        local_stack,
        "dynamodb",
        "get-item",
        "--table-name",
        local_stack.output("PhotosTableName"),
        "--key",
        json.dumps({"photoId": {"S": photo_id}}),
    )["Item"]
    assert item["status"]["S"] == "COMPLETED"
    assert item["executionArn"]["S"] == mine[0]["executionArn"]
