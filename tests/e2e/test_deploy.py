"""`photoflow deploy`: the running local stack updated in place, as `sam deploy` updates a
stack, its photos kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import photoflow_up
from tests.photos import make_photo
from tests.support import ROOT, photoflow

SIZES_BEFORE = "2048,1024,256"  # the template's default
SIZES_AFTER = "2048,1024,512,256"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("deploy")
    with photoflow_up(workdir, ROOT / "template.yaml") as state:
        yield workdir, state


def _upload(workdir: Path, name: str, seed: int) -> dict[str, Any]:
    photo = workdir / name
    photo.write_bytes(make_photo(900, 600, seed=seed))
    uploaded = photoflow(workdir, "upload", "--wait", "--json", str(photo))
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    [result] = json.loads(uploaded.stdout)
    assert result["status"] == "COMPLETED", result
    shown = photoflow(workdir, "status", result["photoId"])
    assert shown.returncode == 0, shown.stderr
    record: dict[str, Any] = json.loads(shown.stdout)
    return record


def _jpeg_names(record: dict[str, Any]) -> list[str]:
    return [r["name"] for r in record["renditions"] if r["format"] == "jpeg"]


def _aws(state: dict[str, Any], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=state["endpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _thumbnail_sizes(state: dict[str, Any]) -> str:
    """THUMBNAIL_SIZES of the thumbnail function, as Lambda's GetFunctionConfiguration says."""
    configuration = _aws(state, "lambda").get_function_configuration(
        FunctionName="ThumbnailFunction"
    )
    return str(configuration["Environment"]["Variables"]["THUMBNAIL_SIZES"])


def _saved(workdir: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((workdir / ".local-stack" / "stack.json").read_text())
    return state


def test_a_new_thumbnail_size_reaches_the_next_photo_and_the_stored_ones_stay(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    workdir, state = stack
    # Given a photo processed with the template's sizes
    before = _upload(workdir, "before.jpg", seed=1)
    assert _jpeg_names(before) == ["2048", "1024", "256", "square"]
    stored = _aws(state, "s3").list_objects_v2(Bucket=state["outputs"]["PhotosBucketName"])
    keys = sorted(o["Key"] for o in stored["Contents"] if before["photoId"] in o["Key"])

    # When a size is added, as `sam deploy --parameter-overrides` would add it
    deployed = photoflow(
        workdir, "deploy", "--template", str(ROOT / "template.yaml"),
        "--parameter-overrides", f"ThumbnailSizes={SIZES_AFTER}",
    )  # fmt: skip

    # Then each function's environment changed, and it says so, line by line
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    lines = deployed.stdout.splitlines()
    assert lines[0] == f"parameter ThumbnailSizes: {SIZES_BEFORE} -> {SIZES_AFTER}"
    assert f"ThumbnailFunction: environment THUMBNAIL_SIZES {SIZES_BEFORE} -> {SIZES_AFTER}" in (
        lines
    )
    assert len(lines) == 8  # the parameter, six functions (Globals), the last line
    assert lines[-1] == f"deployed {ROOT / 'template.yaml'}"
    assert _saved(workdir)["parameters"]["ThumbnailSizes"] == SIZES_AFTER
    assert _thumbnail_sizes(state) == SIZES_AFTER
    # and the next photo gets the new size
    after = _upload(workdir, "after.jpg", seed=2)
    assert _jpeg_names(after) == ["2048", "1024", "512", "256", "square"]
    # while the first photo's record and objects are still there, as they were
    again = photoflow(workdir, "status", before["photoId"])
    assert again.returncode == 0, again.stderr
    assert _jpeg_names(json.loads(again.stdout)) == ["2048", "1024", "256", "square"]
    stored = _aws(state, "s3").list_objects_v2(Bucket=state["outputs"]["PhotosBucketName"])
    assert sorted(o["Key"] for o in stored["Contents"] if before["photoId"] in o["Key"]) == keys

    # and deploying the same again changes nothing (the size is the stack's value now)
    again_deployed = photoflow(workdir, "deploy", "--template", str(ROOT / "template.yaml"))
    assert again_deployed.returncode == 0, again_deployed.stdout
    assert again_deployed.stdout.splitlines() == [f"deployed {ROOT / 'template.yaml'}: no changes"]


def test_a_change_that_needs_a_restart_is_refused_whole(
    stack: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    workdir, state = stack
    sizes = _thumbnail_sizes(state)
    parameters = _saved(workdir)["parameters"]
    # Given a copy of the template with a queue added (its code where the copy looks for it)
    changed = tmp_path / "changed"
    changed.mkdir()
    for folder in ("functions", "src", "statemachine"):
        (changed / folder).symlink_to(ROOT / folder)
    text = (ROOT / "template.yaml").read_text()
    assert text.count("\nResources:\n") == 1
    text = text.replace(
        "\nResources:\n", "\nResources:\n  AuditQueue:\n    Type: AWS::SQS::Queue\n"
    )
    (changed / "template.yaml").write_text(text)

    # When it is deployed with a new size as well
    refused = photoflow(
        workdir, "deploy", "--template", str(changed / "template.yaml"),
        "--parameter-overrides", "ThumbnailSizes=1600,800",
    )  # fmt: skip

    # Then it is refused, the resource named, and nothing changed
    assert refused.returncode == 1, refused.stdout
    assert refused.stdout.splitlines() == [
        "AuditQueue: added (AWS::SQS::Queue)",
        "not deployed: 1 change(s) need the stack created anew, nothing changed: stop"
        " `photoflow up` and start it again (its data is lost then)",
    ]
    assert _thumbnail_sizes(state) == sizes
    assert _saved(workdir)["parameters"] == parameters
    queues = _aws(state, "sqs").list_queues().get("QueueUrls", [])
    assert not [url for url in queues if "AuditQueue" in url]


def test_a_parameter_value_the_template_does_not_allow_is_one_line(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    workdir, _ = stack
    refused = photoflow(
        workdir, "deploy", "--template", str(ROOT / "template.yaml"),
        "--parameter-overrides", "ThumbnailSizes=big",
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stdout.splitlines() == [
        "ThumbnailSizes=big: ThumbnailSizes must match pattern ^[0-9]+(,[0-9]+)*$"
    ]
