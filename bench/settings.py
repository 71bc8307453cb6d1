"""The workflow's configuration, read from template.yaml as the deployed functions get it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflow.config import ThumbnailConfig
from photoflow.imaging import Limits
from photoflow_local.shape import Stage, load_shape
from photoflow_local.template import load_sam

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"
TABLE_TYPE = "AWS::DynamoDB::Table"
THUMBNAIL_FUNCTION = "ThumbnailFunction"


@dataclass(frozen=True)
class WorkflowSettings:
    """What the thumbnail, filter and metadata steps are configured to do, and with what memory."""

    imaging: ThumbnailConfig  # the imaging settings, with the thumbnail step's own
    memory_mb: dict[str, int]  # function logical id -> MemorySize
    step_functions: tuple[str, ...]  # logical ids of the functions the state machine invokes
    stages: tuple[Stage, ...]  # those functions along the workflow, Parallel branches side by side
    # Global secondary indexes of the tables projecting every attribute: each write of a
    # record updates them, at the record's size.
    table_indexes: int
    # The others (keys and a few attributes: the hash band indexes): a record enters them
    # once, when the workflow writes their keys with the completed record, under 1 KB.
    keyed_indexes: int
    workflow_type: str

    @property
    def limits(self) -> Limits:
        return self.imaging.limits

    @property
    def smallest_size(self) -> int:
        return min(self.imaging.thumbnail_sizes)


def load_settings(template: Path = TEMPLATE) -> WorkflowSettings:
    """Parameter defaults and MemorySize of every function, validated like a cold start does."""
    sam = load_sam(template)
    shape = load_shape(template)
    defaults = {
        name: spec["Default"]
        for name, spec in sam.get("Parameters", {}).items()
        if "Default" in spec
    }
    function_globals = sam.get("Globals", {}).get("Function", {})
    variables = function_globals.get("Environment", {}).get("Variables", {})
    # The thumbnail step's own variables (its square and modern formats) on top.
    thumbnail = sam.get("Resources", {}).get(THUMBNAIL_FUNCTION, {}).get("Properties", {})
    variables = {**variables, **thumbnail.get("Environment", {}).get("Variables", {})}
    environment = {name: str(_resolve(value, defaults)) for name, value in variables.items()}
    default_memory = int(function_globals.get("MemorySize", 128))
    memory = {
        logical_id: int(resource.get("Properties", {}).get("MemorySize", default_memory))
        for logical_id, resource in sam.get("Resources", {}).items()
        if resource.get("Type") == FUNCTION_TYPE
    }
    return WorkflowSettings(
        imaging=ThumbnailConfig.model_validate(environment),
        memory_mb=memory,
        step_functions=shape.step_functions,
        stages=shape.stages,
        table_indexes=sum(projection == "ALL" for projection in _index_projections(sam)),
        keyed_indexes=sum(projection != "ALL" for projection in _index_projections(sam)),
        workflow_type=str(defaults.get("WorkflowType", "STANDARD")),
    )


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    """A parameter reference replaced by the parameter's default; anything else unchanged."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    return value


def _index_projections(sam: dict[str, Any]) -> list[str]:
    """The projection type of every global secondary index of the template's tables."""
    return [
        str(index.get("Projection", {}).get("ProjectionType", "KEYS_ONLY"))
        for resource in sam.get("Resources", {}).values()
        if resource.get("Type") == TABLE_TYPE
        for index in resource.get("Properties", {}).get("GlobalSecondaryIndexes", [])
    ]
