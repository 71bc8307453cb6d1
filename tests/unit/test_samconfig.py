"""samconfig.toml: the defaults `sam build` and `sam deploy` read name what template.yaml has."""

from __future__ import annotations

import shlex
import tomllib

from photoflow_local.template import load_sam
from tests.support import ROOT


def test_deploy_defaults_are_parameters_the_template_declares_with_allowed_values() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    parameters = load_sam(ROOT / "template.yaml")["Parameters"]
    deploy = config["default"]["deploy"]["parameters"]

    overrides = dict(item.split("=", 1) for item in shlex.split(deploy["parameter_overrides"]))

    assert overrides == {
        "Stage": "dev",
        "Architecture": "x86_64",
        "WorkflowType": "STANDARD",
        "ApiAuth": "COGNITO",
    }
    for name, value in overrides.items():
        assert value in parameters[name].get("AllowedValues", [value]), name
    # Every parameter without a default would stop a non-interactive deploy.
    assert [name for name, spec in parameters.items() if "Default" not in spec] == []
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert config["default"]["global"]["parameters"]["stack_name"] == "photoflow-dev"
