"""What each resource handler works with while a stack is created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from photoflow_local.deploy.model import ACCOUNT_ID, DeployedStack
from photoflow_local.template import TranslatedTemplate


@dataclass
class Deployment:
    """The stack being created, its template, and clients of the local endpoint."""

    stack: DeployedStack
    template: TranslatedTemplate
    client: Callable[[str], Any]  # service name -> boto3 client of the local endpoint
    stack_name: str
    region: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    def created(self, logical_id: str, physical_id: str, **attributes: Any) -> None:
        """Record a created resource: what Ref and Fn::GetAtt give from now on."""
        self.stack.physical_ids[logical_id] = physical_id
        self.stack.attributes[logical_id] = attributes


# Creates one resource from its resolved properties, through the local endpoint.
Handler = Callable[[Deployment, str, dict[str, Any]], None]
