"""The photoflow command as a developer uses it: up in one terminal, the rest in another."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3

from photoflow_local.client import LocalSignIn, PhotosClient, sign_in
from photoflow_local.identity import LOCAL_TEST_PASSWORD, LOCAL_TEST_USER
from tests.e2e.conftest import photoflow_up
from tests.photos import make_photo
from tests.support import ROOT, photoflow


def test_upload_status_executions_and_history(running: tuple[Path, dict[str, str]]) -> None:
    workdir, state = running
    photo = workdir / "cli photo.jpg"
    photo.write_bytes(make_photo(900, 600))

    uploaded = photoflow(workdir, "upload", "--wait", "--json", str(photo))
    assert uploaded.returncode == 0, uploaded.stderr
    [result] = json.loads(uploaded.stdout)
    photo_id = result["photoId"]
    assert (result["file"], result["status"], result["error"]) == (str(photo), "COMPLETED", None)

    shown = photoflow(workdir, "status", photo_id)
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert (record["photoId"], record["status"]) == (photo_id, "COMPLETED")

    listed = photoflow(workdir, "executions", "--json")
    assert listed.returncode == 0, listed.stderr
    [execution] = [e for e in json.loads(listed.stdout) if photo_id in e["name"]]
    assert execution["status"] == "SUCCEEDED"
    arn = execution["executionArn"]
    history = photoflow(workdir, "history", arn, "--endpoint-url", state["endpointUrl"])
    assert history.returncode == 0, history.stderr
    for state_name in ("MarkProcessing", "MakeThumbnails", "ApplyFilters", "NotifyProcessed"):
        assert state_name in history.stdout
    assert "execution SUCCEEDED" in history.stdout


def test_status_with_an_identity_of_ones_choice(running: tuple[Path, dict[str, str]]) -> None:
    workdir, state = running
    photo = workdir / "identity.jpg"
    photo.write_bytes(make_photo(300, 200))
    uploaded = photoflow(workdir, "upload", "--json", str(photo))
    assert uploaded.returncode == 0, uploaded.stderr
    [result] = json.loads(uploaded.stdout)
    assert result["status"] == "ACCEPTED"
    photo_id = result["photoId"]
    api = ("--api", state["apiUrl"])

    # The uploader's own ID token, got by signing in as the page does, is let in
    token = sign_in(state["apiUrl"], LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)["id_token"]
    shown = photoflow(workdir, "status", photo_id, *api, "--token", token)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["photoId"] == photo_id

    # A token the user pool never issued is refused, in one line, with a hint
    refused = photoflow(workdir, "status", photo_id, *api, "--token", "not-a-token")
    assert refused.returncode == 1
    assert refused.stdout == (
        "the API answered HTTP 401: Unauthorized: check --token (ApiAuth COGNITO) or --iam"
        " (ApiAuth AWS_IAM)\n"
    )
    assert "Traceback" not in refused.stdout + refused.stderr

    # and asking for two identities at once is a usage error
    both = photoflow(workdir, "status", photo_id, "--token", "x", "--iam")
    assert both.returncode == 2
    assert "not both" in both.stderr


NO_API_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: Machine
      Definition:
        StartAt: Done
        States:
          Done: {Type: Pass, End: true}
"""


def test_up_runs_a_template_without_a_rest_api(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(NO_API_TEMPLATE)

    with photoflow_up(tmp_path, template) as state:
        assert state["apiUrl"] is None
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=state["endpointUrl"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        machines = sfn.list_state_machines()["stateMachines"]
        assert [m["name"] for m in machines] == ["Machine"]


def test_up_says_in_one_line_where_a_copied_templates_paths_resolve(tmp_path: Path) -> None:
    template = tmp_path / "elsewhere" / "template.yaml"
    template.parent.mkdir()
    shutil.copy(ROOT / "template.yaml", template)

    up = photoflow(tmp_path, "up", "--template", str(template), "--aws-port", "0")

    assert up.returncode == 2, up.stdout + up.stderr
    [*_, line] = up.stdout.strip().splitlines()
    assert line == (
        f"CoreLayerX8664's ContentUri src/ is not at {template.parent / 'src'}: paths in a"
        f" template resolve relative to the template's folder ({template.parent}), as in SAM"
    )
    assert "Traceback" not in up.stdout + up.stderr


def test_up_refuses_a_parameter_value_the_template_does_not_allow(tmp_path: Path) -> None:
    up = photoflow(
        tmp_path,
        "up",
        "--template",
        str(ROOT / "template.yaml"),
        "--parameter-overrides",
        "WorkflowType=express",
    )

    assert up.returncode == 2, up.stdout + up.stderr
    assert up.stdout.strip() == "WorkflowType=express: WorkflowType is one of STANDARD, EXPRESS"


def test_users_add_makes_a_user_who_signs_in_and_sees_only_their_photos(
    running: tuple[Path, dict[str, str]],
) -> None:
    workdir, state = running
    # With a password of one's choice
    added = photoflow(workdir, "users", "add", "marie", "--password", "Radium-1898-x")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("user marie (sub ")
    assert f"sign in on the page at {state['apiUrl']}/" in added.stdout
    marie = PhotosClient(state["apiUrl"], auth=LocalSignIn("marie", "Radium-1898-x"))
    assert marie.photos(limit=5) == {"photos": [], "nextCursor": None}
    # and with a new one, shown once, that signs in too
    made = photoflow(workdir, "users", "add", "pierre")
    assert made.returncode == 0, made.stderr
    password = made.stdout.split("password: ", 1)[1].split()[0]
    assert len(password) >= 12
    assert "id_token" in sign_in(state["apiUrl"], "pierre", password)
