"""Template parameters from the command line (SAM's --parameter-overrides) and template
paths that do not resolve: what `photoflow up` is given, checked before anything starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from photoflow_local.template import (
    TemplateError,
    check_parameters,
    load_sam,
    parameter_overrides,
    translate,
)
from tests.support import ROOT


def test_overrides_are_read_as_the_sam_cli_reads_them() -> None:
    assert parameter_overrides(
        ["WorkflowType=EXPRESS LogLevel=DEBUG", "ParameterKey=Stage,ParameterValue=prod"]
    ) == {"WorkflowType": "EXPRESS", "LogLevel": "DEBUG", "Stage": "prod"}
    assert parameter_overrides(["AllowedOrigin='https://a.example' Stage=x=y"]) == {
        "AllowedOrigin": "https://a.example",
        "Stage": "x=y",
    }
    assert parameter_overrides([]) == {}


@pytest.mark.parametrize("given", ["WorkflowType", "=EXPRESS"])
def test_an_override_that_is_not_key_value_is_refused(given: str) -> None:
    with pytest.raises(TemplateError, match=f"parameter override '{given}' is not Key=Value"):
        parameter_overrides([given])


def test_an_override_names_a_parameter_of_the_template_with_an_allowed_value() -> None:
    sam = load_sam(ROOT / "template.yaml")
    check_parameters(sam, Path("template.yaml"), {"WorkflowType": "EXPRESS"})

    with pytest.raises(
        TemplateError, match=r"^WorkflowType=express: WorkflowType is one of STANDARD, EXPRESS$"
    ):
        check_parameters(sam, Path("template.yaml"), {"WorkflowType": "express"})
    with pytest.raises(TemplateError, match=r"^template\.yaml has no parameter WorkflowKind "):
        check_parameters(sam, Path("template.yaml"), {"WorkflowKind": "EXPRESS"})


def test_an_override_matches_the_parameters_allowed_pattern_whole() -> None:
    sam = load_sam(ROOT / "template.yaml")
    check_parameters(sam, Path("template.yaml"), {"ThumbnailSizes": "2048,1024,512,256"})
    for refused in ("2048,big", "2048,", "2048 1024"):
        with pytest.raises(TemplateError) as raised:
            check_parameters(sam, Path("template.yaml"), {"ThumbnailSizes": refused})
        assert str(raised.value) == (
            f"ThumbnailSizes={refused}: ThumbnailSizes must match pattern ^[0-9]+(,[0-9]+)*$"
        )


def test_a_template_copied_away_from_its_code_says_where_its_paths_resolve(
    tmp_path: Path,
) -> None:
    copied = tmp_path / "template.yaml"
    shutil.copy(ROOT / "template.yaml", copied)

    with pytest.raises(TemplateError) as refused:
        translate(copied)

    message = str(refused.value)
    assert message.startswith(f"CoreLayerX8664's ContentUri src/ is not at {tmp_path / 'src'}: ")
    assert message.endswith(
        f"paths in a template resolve relative to the template's folder ({tmp_path}), as in SAM"
    )


def test_a_missing_template_is_one_line() -> None:
    with pytest.raises(TemplateError, match=r"^template nowhere\.yaml: No such file or directory$"):
        load_sam(Path("nowhere.yaml"))
