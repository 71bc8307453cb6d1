"""`photoflow replay --live` of an execution recorded on AWS, whose Task returns the whole
lambda:invoke result (tests/fixtures/invoke: its template; histories/aws: the history)."""

from __future__ import annotations

from pathlib import Path

from tests.support import ROOT, photoflow

TEMPLATE = ROOT / "tests" / "fixtures" / "invoke" / "template.yaml"
HISTORY = ROOT / "tests" / "fixtures" / "histories" / "aws" / "invoke.history.json"


def test_a_live_replay_of_an_aws_history_with_a_task_is_identical(tmp_path: Path) -> None:
    # The recorded result carries AWS's ExecutedVersion, SdkHttpMetadata and
    # SdkResponseMetadata, with AWS's request id, trace id and date
    replayed = photoflow(tmp_path, "replay", "--live", "--template", str(TEMPLATE), str(HISTORY))

    # The local run answers the same fields (its own ids and date): no difference
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "replayed identically" in replayed.stdout
    assert "recorded: SUCCEEDED   replayed (live): SUCCEEDED" in replayed.stdout
