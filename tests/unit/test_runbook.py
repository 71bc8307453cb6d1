"""The runbook (docs/runbook.md) has a section for every alarm the template raises, and the
commands it gives exist."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from photoflow_local.cli import app
from photoflow_local.template import load_sam
from tests.support import ROOT

RUNBOOK = ROOT / "docs" / "runbook.md"


def test_every_alarm_has_a_section() -> None:
    alarms = {
        logical_id
        for logical_id, resource in load_sam(ROOT / "template.yaml")["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    headings = re.findall(r"^### (.+)$", RUNBOOK.read_text(encoding="utf-8"), re.MULTILINE)
    covered = {name.strip() for heading in headings for name in heading.split(",")}
    assert len(alarms) == 19  # the template's alarms, counted when this runbook was written
    assert alarms - covered == set()
    assert covered - alarms == set()  # no section for an alarm that is gone


def test_the_commands_it_gives_exist() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for command in sorted(set(re.findall(r"^photoflow ([a-z-]+)", text, re.MULTILINE))):
        shown = CliRunner().invoke(app, [command, "--help"])
        assert shown.exit_code == 0, (command, shown.output)
