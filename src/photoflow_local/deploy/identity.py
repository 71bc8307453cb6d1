"""KMS keys, Cognito user pools and their app clients."""

from __future__ import annotations

import json
from typing import Any

from photoflow_local.deploy.context import Deployment, Handler


def kms_key(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    kms = ctx.client("kms")
    request: dict[str, Any] = {"Description": str(props.get("Description", logical_id))}
    if "KeyPolicy" in props:
        request["Policy"] = json.dumps(props["KeyPolicy"])
    metadata = kms.create_key(**request)["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    ctx.stack.not_emulated[logical_id] = (
        "AWS::KMS::Key: created, but the local topics and log groups store plaintext"
    )
    ctx.created(logical_id, metadata["KeyId"], Arn=metadata["Arn"], KeyId=metadata["KeyId"])


def user_pool(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    name = props.get("UserPoolName") or f"{ctx.stack_name}-{logical_id}"
    pool = ctx.client("cognito-idp").create_user_pool(PoolName=name)["UserPool"]
    ctx.stack.not_emulated[logical_id] = (
        "AWS::Cognito::UserPool: created with its users and app clients, without its "
        "password policy, MFA or e-mail verification; sign-up is not offered locally"
    )
    provider = f"cognito-idp.{ctx.region}.amazonaws.com/{pool['Id']}"
    ctx.created(
        logical_id,
        pool["Id"],
        Arn=pool["Arn"],
        ProviderName=provider,
        ProviderURL=f"https://{provider}",
        UserPoolId=pool["Id"],
    )


def user_pool_client(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    client = ctx.client("cognito-idp").create_user_pool_client(
        UserPoolId=props["UserPoolId"],
        ClientName=props.get("ClientName") or f"{ctx.stack_name}-{logical_id}",
        GenerateSecret=bool(props.get("GenerateSecret", False)),
    )["UserPoolClient"]
    ctx.created(
        logical_id, client["ClientId"], ClientId=client["ClientId"], Name=client["ClientName"]
    )


HANDLERS: dict[str, Handler] = {
    "AWS::KMS::Key": kms_key,
    "AWS::Cognito::UserPool": user_pool,
    "AWS::Cognito::UserPoolClient": user_pool_client,
}
