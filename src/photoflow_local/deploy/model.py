"""What a local deployment created: the stack's resources, functions, event sources and APIs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from photoflow_local.lambdas import LocalFunction

ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class EventSourceMapping:
    logical_id: str
    queue_arn: str
    function_name: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ApiRoute:
    api_id: str
    method: str
    path: str  # OpenAPI style, /photos/{photoId}
    function_name: str
    # API Gateway's authorization type of the method: NONE, AWS_IAM or COGNITO_USER_POOLS.
    authorization: str = "NONE"
    # A MOCK integration (CORS preflights) answers itself: (status, headers, body).
    mock: tuple[int, dict[str, str], str] | None = None

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method.upper():
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass
class ApiDefinition:
    api_id: str
    logical_id: str
    stage: str = ""
    routes: list[ApiRoute] = field(default_factory=list)
    binary_media_types: list[str] = field(default_factory=list)
    # Headers API Gateway adds to its own 4xx/5xx responses (x-amazon-apigateway-gateway-responses).
    gateway_response_headers: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class DeployedStack:
    name: str
    region: str
    parameters: dict[str, Any]
    physical_ids: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    event_source_mappings: list[EventSourceMapping] = field(default_factory=list)
    apis: dict[str, ApiDefinition] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    not_emulated: dict[str, str] = field(default_factory=dict)
    # Each resource's properties as created (resolved; as the template has them for a type
    # only named locally, whose references may name what is not emulated): what an update
    # compares with.
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A hash of each function's code (its folder and its layers'), by function name.
    code_fingerprints: dict[str, str] = field(default_factory=dict)
    main_state_machine: str | None = None  # the photo workflow (shape.main_state_machine)

    def of_type(self, resource_type: str) -> dict[str, str]:
        return {k: self.physical_ids[k] for k, t in self.types.items() if t == resource_type}
