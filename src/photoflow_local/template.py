"""template.yaml, read and translated the way `sam deploy` would, for the local stack.

The SAM translator turns the template into plain CloudFormation. Paths to local
code (CodeUri, ContentUri, DefinitionUri) are what `sam package` would upload;
here they are swapped for placeholders before translation and remembered, so
the local stack runs the code in place.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

LOCAL_CODE_BUCKET = "photoflow-local-code"


class TemplateError(ValueError):
    """A template, or a parameter value for it, that cannot be deployed (and why)."""


@dataclass
class TranslatedTemplate:
    """Plain CloudFormation, and where each function's code lives on disk."""

    resources: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    outputs: dict[str, Any]
    mappings: dict[str, Any]
    code_paths: dict[str, Path] = field(default_factory=dict)  # placeholder S3 key -> directory
    root: Path = Path()


def load_sam(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateError(f"template {path}: {error.strerror or error}") from None
    document: dict[str, Any] = yaml_parse(text)
    return document


_KEY_VALUE = re.compile(r"ParameterKey=([^,]+),ParameterValue=(.*)")


def parameter_overrides(texts: list[str]) -> dict[str, str]:
    """``--parameter-overrides`` as the SAM CLI reads it: ``Key=Value`` pairs separated by
    spaces (quoted values may hold spaces), or ``ParameterKey=K,ParameterValue=V``; the
    option may be given more than once."""
    overrides: dict[str, str] = {}
    for text in texts:
        for item in shlex.split(text):
            found = _KEY_VALUE.fullmatch(item)
            key, sep, value = (found[1], "=", found[2]) if found else item.partition("=")
            if not key or not sep:
                raise TemplateError(
                    f"parameter override {item!r} is not Key=Value"
                    " (e.g. --parameter-overrides WorkflowType=EXPRESS)"
                )
            overrides[key] = value
    return overrides


def check_parameters(sam: dict[str, Any], path: Path, overrides: dict[str, str]) -> None:
    """Each override names one of the template's parameters, with one of its allowed values
    and matching its AllowedPattern (CloudFormation refuses the stack otherwise)."""
    declared = sam.get("Parameters", {})
    for name, value in overrides.items():
        if name not in declared:
            raise TemplateError(
                f"{path} has no parameter {name} (it has {', '.join(sorted(declared))})"
            )
        allowed = [str(v) for v in declared[name].get("AllowedValues", [])]
        if allowed and value not in allowed:
            raise TemplateError(f"{name}={value}: {name} is one of {', '.join(allowed)}")
        pattern = declared[name].get("AllowedPattern")
        # CloudFormation matches the whole value, and names the pattern it failed.
        if pattern is not None and re.fullmatch(str(pattern), value) is None:
            raise TemplateError(f"{name}={value}: {name} must match pattern {pattern}")


def _local_path(root: Path, logical_id: str, prop: str, value: str) -> Path:
    """A local path of the template, resolved as SAM does: relative to the template's folder."""
    path = (root / value).resolve()
    if not path.exists():
        raise TemplateError(
            f"{logical_id}'s {prop} {value} is not at {path}: paths in a template resolve"
            f" relative to the template's folder ({root}), as in SAM"
        )
    return path


def _local_paths(template: dict[str, Any], root: Path) -> dict[str, Path]:
    """Replace local code and definition paths with placeholders; return the mapping."""
    code_paths: dict[str, Path] = {}
    globals_function = template.get("Globals", {}).get("Function", {})
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.setdefault("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            code_uri = properties.get("CodeUri", globals_function.get("CodeUri"))
            if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
                code_paths[logical_id] = _local_path(root, logical_id, "CodeUri", code_uri)
                properties["CodeUri"] = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}"
        elif kind == "AWS::Serverless::LayerVersion":
            content_uri = properties.get("ContentUri")
            if isinstance(content_uri, str) and not content_uri.startswith("s3://"):
                code_paths[logical_id] = _local_path(root, logical_id, "ContentUri", content_uri)
                properties["ContentUri"] = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}"
        elif kind == "AWS::Serverless::StateMachine":
            definition_uri = properties.get("DefinitionUri")
            if isinstance(definition_uri, str) and not definition_uri.startswith("s3://"):
                definition_path = _local_path(root, logical_id, "DefinitionUri", definition_uri)
                properties.pop("DefinitionUri")
                properties["Definition"] = json.loads(definition_path.read_text(encoding="utf-8"))
                code_paths[logical_id] = definition_path
    return code_paths


def translate(
    path: Path,
    parameter_overrides: dict[str, str] | None = None,
    region: str = "us-east-1",
    sam: dict[str, Any] | None = None,
) -> TranslatedTemplate:
    """The CloudFormation that `sam deploy` would create from ``path`` (``sam``: the
    template as ``load_sam`` read it already, so as not to parse it twice)."""
    sam = load_sam(path) if sam is None else sam
    prepared = copy.deepcopy(sam)
    code_paths = _local_paths(prepared, path.parent.resolve())
    parameters = {
        name: spec.get("Default")
        for name, spec in prepared.get("Parameters", {}).items()
        if "Default" in spec
    }
    parameters.update(parameter_overrides or {})
    # The translator only needs a region to build ARNs; no call leaves the machine.
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    # Policies here are statements and SAM policy templates; named AWS managed
    # policies would need IAM to resolve, which the local stack does not call.
    cfn = translator.translate(
        prepared, parameter_values=parameters, get_managed_policy_map=lambda: {}
    )
    return TranslatedTemplate(
        resources=cfn.get("Resources", {}),
        parameters=cfn.get("Parameters", {}),
        conditions=cfn.get("Conditions", {}),
        outputs=cfn.get("Outputs", {}),
        mappings=cfn.get("Mappings", {}),
        code_paths={f"{logical_id}": code_path for logical_id, code_path in code_paths.items()},
        root=path.parent.resolve(),
    )
