"""API Gateway REST APIs (routes of the local API front end) and their stages."""

from __future__ import annotations

import re
from typing import Any

from photoflow_local.deploy.context import Deployment, Handler
from photoflow_local.deploy.model import ApiDefinition, ApiRoute


def rest_api(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    api_id = re.sub(r"[^a-z0-9]", "", logical_id.lower())[:10]
    api = ApiDefinition(api_id=api_id, logical_id=logical_id)
    body = props.get("Body", {})
    api.binary_media_types = [t.replace("~1", "/") for t in props.get("BinaryMediaTypes", [])]
    api.gateway_response_headers = _gateway_response_headers(body)
    for path, methods in body.get("paths", {}).items():
        for method, operation in methods.items():
            integration = operation.get("x-amazon-apigateway-integration", {})
            if integration.get("type") == "mock":
                authorization = _authorization(operation, body)
                mock = _mock_response(integration)
                api.routes.append(ApiRoute(api_id, method.upper(), path, "", authorization, mock))
                continue
            if integration.get("type") != "aws_proxy":
                continue
            # .../functions/arn:aws:lambda:<region>:<account>:function:<name>/invocations
            match = re.search(r"function:([^/:]+)", str(integration.get("uri", "")))
            function = match.group(1) if match else ""
            authorization = _authorization(operation, body)
            api.routes.append(ApiRoute(api_id, method.upper(), path, function, authorization))
    ctx.stack.apis[logical_id] = api
    ctx.created(logical_id, api_id, RootResourceId=f"{api_id}-root")


def api_stage(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    for api in ctx.stack.apis.values():
        if api.api_id == props.get("RestApiId"):
            api.stage = str(props.get("StageName", ""))
    ctx.created(logical_id, str(props.get("StageName", logical_id)))


def _authorization(operation: dict[str, Any], body: dict[str, Any]) -> str:
    """The method's authorization type, from its OpenAPI ``security`` and the definitions."""
    security = operation.get("security", body.get("security", []))
    definitions = body.get("securityDefinitions", {})
    for requirement in security:
        for name in requirement:
            definition = definitions.get(name, {})
            kind = str(definition.get("x-amazon-apigateway-authtype", "")).lower()
            if kind == "awssigv4":
                return "AWS_IAM"
            if kind == "cognito_user_pools":
                return "COGNITO_USER_POOLS"
            if definition:
                raise ValueError(f"authorizer {name}: {kind or 'custom'} is not emulated locally")
    return "NONE"


def _mock_response(integration: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    """What a MOCK integration's default response sends: the status, the headers its
    responseParameters map to static values ('quoted'), the JSON response template."""
    default = integration.get("responses", {}).get("default", {})
    prefix = "method.response.header."
    headers = {
        name[len(prefix) :]: str(value).strip("'")
        for name, value in default.get("responseParameters", {}).items()
        if name.startswith(prefix) and str(value).startswith("'")
    }
    body = default.get("responseTemplates", {}).get("application/json", "")
    return int(default.get("statusCode", 200)), headers, str(body)


def _gateway_response_headers(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Gateway response type -> headers, with API Gateway's quotes around static values removed."""
    prefix = "gatewayresponse.header."
    headers: dict[str, dict[str, str]] = {}
    for kind, response in body.get("x-amazon-apigateway-gateway-responses", {}).items():
        for key, value in response.get("responseParameters", {}).items():
            if key.startswith(prefix):
                headers.setdefault(kind, {})[key[len(prefix) :]] = str(value).strip("'")
    return headers


HANDLERS: dict[str, Handler] = {
    "AWS::ApiGateway::RestApi": rest_api,
    "AWS::ApiGateway::Stage": api_stage,
}
