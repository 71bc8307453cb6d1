"""CloudFormation's create-stack for the local endpoint: resources in dependency order,
each created by the handler registered for its type."""

from __future__ import annotations

from typing import Any

import boto3

from photoflow_local.deploy.context import Deployment, Handler
from photoflow_local.deploy.model import ACCOUNT_ID, DeployedStack
from photoflow_local.deploy.registry import HANDLERS, REFERENCES_ONLY
from photoflow_local.deploy.update import StackUpdate, plan_update
from photoflow_local.intrinsics import Resolver, UnresolvedReference, references
from photoflow_local.template import TranslatedTemplate


class LocalDeployer:
    """CloudFormation's create-stack, for the local endpoint."""

    def __init__(
        self,
        endpoint_url: str,
        region: str = "us-east-1",
        stack_name: str = "photoflow",
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack_name = stack_name
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=region
        )
        self._client = lambda service: session.client(service, endpoint_url=endpoint_url)
        self.handlers = HANDLERS if handlers is None else handlers

    # ------------------------------------------------------------ orchestration
    def deploy(
        self, template: TranslatedTemplate, parameters: dict[str, Any] | None = None
    ) -> DeployedStack:
        values = {
            name: str(spec["Default"]) if "Default" in spec else None
            for name, spec in template.parameters.items()
        }
        values.update({k: str(v) for k, v in (parameters or {}).items()})
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise ValueError(f"parameters without a value: {', '.join(missing)}")
        self.stack = DeployedStack(self.stack_name, self.region, values)
        self.resolver = Resolver(self._ref, self._get_att, template.conditions, template.mappings)
        deployment = Deployment(self.stack, template, self._client, self.stack_name, self.region)
        for logical_id in self._creation_order(template.resources):
            resource = template.resources[logical_id]
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                continue
            kind = resource["Type"]
            self.stack.types[logical_id] = kind
            handler = self.handlers.get(kind)
            if handler is None:
                reason = REFERENCES_ONLY.get(kind, "not emulated by the local stack")
                self.stack.not_emulated[logical_id] = f"{kind}: {reason}"
                self.stack.physical_ids[logical_id] = f"{logical_id}-local"
                self.stack.properties[logical_id] = resource.get("Properties", {})
                continue
            properties = self.resolver.resolve(resource.get("Properties", {}))
            self.stack.properties[logical_id] = properties
            handler(deployment, logical_id, properties)
        self.stack.outputs = self._outputs(template, self.resolver, self.stack.not_emulated)
        return self.stack

    def update(self, template: TranslatedTemplate, parameters: dict[str, Any]) -> StackUpdate:
        """CloudFormation's update-stack: what changes from the stack as deployed to
        ``template`` with ``parameters`` (every one of the template's), resolved with the
        stack's physical ids. Nothing is applied: ``StackUpdate.apply`` does that, and only
        for an update with nothing that needs the stack created anew."""
        values = {name: str(value) for name, value in parameters.items()}
        resolver = Resolver(
            lambda name: self._ref(name, values),
            self._get_att,
            template.conditions,
            template.mappings,
        )
        deployment = Deployment(self.stack, template, self._client, self.stack_name, self.region)
        order = self._creation_order(template.resources)
        update = plan_update(deployment, resolver, values, order)
        update.outputs = self._outputs(template, resolver, update.not_emulated)
        return update

    @staticmethod
    def _outputs(
        template: TranslatedTemplate, resolver: Resolver, not_emulated: dict[str, str]
    ) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for name, output in template.outputs.items():
            if "Condition" in output and not resolver.condition(output["Condition"]):
                continue
            try:
                outputs[name] = resolver.resolve(output["Value"])
            except UnresolvedReference as missing:
                # An attribute of a resource the local stack does not emulate.
                not_emulated[f"Outputs.{name}"] = f"not available locally ({missing})"
        return outputs

    @staticmethod
    def _creation_order(resources: dict[str, dict[str, Any]]) -> list[str]:
        dependencies: dict[str, set[str]] = {}
        for logical_id, resource in resources.items():
            depends_on = resource.get("DependsOn", [])
            depends = {depends_on} if isinstance(depends_on, str) else set(depends_on)
            depends |= references(resource.get("Properties", {}))
            dependencies[logical_id] = {d for d in depends if d in resources}
        order: list[str] = []
        visiting: set[str] = set()

        def visit(node: str) -> None:
            if node in order:
                return
            if node in visiting:
                raise ValueError(f"circular dependency through {node}")
            visiting.add(node)
            for dependency in sorted(dependencies[node]):
                visit(dependency)
            visiting.discard(node)
            order.append(node)

        for logical_id in resources:
            visit(logical_id)
        return order

    def _ref(self, name: str, parameters: dict[str, Any] | None = None) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/local"
            ),
        }
        if name in pseudo:
            return pseudo[name]
        values = self.stack.parameters if parameters is None else parameters
        if name in values:
            return values[name]
        if name in self.stack.physical_ids:
            return self.stack.physical_ids[name]
        raise UnresolvedReference(f"Ref {name}: not created (yet)")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.stack.attributes[logical_id][attribute]
        except KeyError:
            raise UnresolvedReference(f"Fn::GetAtt {logical_id}.{attribute}") from None
