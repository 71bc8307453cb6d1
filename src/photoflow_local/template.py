"""template.yaml, read and translated the way `sam deploy` would, for the local stack.

The SAM translator turns the template into plain CloudFormation. Paths to local
code (CodeUri, ContentUri, DefinitionUri) are what `sam package` would upload;
here they are swapped for placeholders before translation and remembered, so
the local stack runs the code in place.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

LOCAL_CODE_BUCKET = "photoflow-local-code"


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
    document: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return document


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
                code_paths[logical_id] = (root / code_uri).resolve()
                properties["CodeUri"] = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}"
        elif kind == "AWS::Serverless::LayerVersion":
            content_uri = properties.get("ContentUri")
            if isinstance(content_uri, str) and not content_uri.startswith("s3://"):
                code_paths[logical_id] = (root / content_uri).resolve()
                properties["ContentUri"] = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}"
        elif kind == "AWS::Serverless::StateMachine":
            definition_uri = properties.get("DefinitionUri")
            if isinstance(definition_uri, str) and not definition_uri.startswith("s3://"):
                definition_path = (root / definition_uri).resolve()
                properties.pop("DefinitionUri")
                properties["Definition"] = json.loads(definition_path.read_text(encoding="utf-8"))
                code_paths[logical_id] = definition_path
    return code_paths


def translate(
    path: Path, parameter_overrides: dict[str, str] | None = None, region: str = "us-east-1"
) -> TranslatedTemplate:
    """The CloudFormation that `sam deploy` would create from ``path``."""
    sam = load_sam(path)
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
