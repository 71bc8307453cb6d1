"""S3 buckets and their policies, DynamoDB tables."""

from __future__ import annotations

import json
from typing import Any

from photoflow_local.deploy.context import Deployment, Handler


def bucket(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    s3 = ctx.client("s3")
    name = props.get("BucketName") or f"{ctx.stack_name}-{logical_id}".lower()
    if ctx.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": ctx.region})
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                        "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                    }
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if props.get("VersioningConfiguration", {}).get("Status"):
        s3.put_bucket_versioning(
            Bucket=name,
            VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
        )
    if "CorsConfiguration" in props:
        rules = [
            {("MaxAgeSeconds" if key == "MaxAge" else key): value for key, value in rule.items()}
            for rule in props["CorsConfiguration"]["CorsRules"]
        ]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    notifications = props.get("NotificationConfiguration", {})
    if notifications:
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=_s3_notifications(notifications)
        )
    ctx.created(
        logical_id,
        name,
        Arn=f"arn:aws:s3:::{name}",
        DomainName=f"{name}.s3.amazonaws.com",
        RegionalDomainName=f"{name}.s3.{ctx.region}.amazonaws.com",
    )


def bucket_policy(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    document = dict(props["PolicyDocument"])
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    # The local endpoint is plain HTTP on 127.0.0.1, so a TLS-only rule would refuse
    # everything; and moto checks a Deny's conditions without the request's context, so a
    # conditional Deny (a link's signature age) would refuse every read too.
    kept = [s for s in statements if not (s.get("Effect") == "Deny" and s.get("Condition"))]
    skipped = sorted(
        {
            key
            for s in statements
            if s not in kept
            for condition in s["Condition"].values()
            for key in condition
        }
    )
    if skipped:
        ctx.stack.not_emulated[logical_id] = (
            f"AWS::S3::BucketPolicy: Deny statements on {', '.join(skipped)} skipped "
            "(the local endpoint is HTTP and does not evaluate request context)"
        )
    if kept:
        document["Statement"] = kept
        ctx.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
    ctx.created(logical_id, f"{props['Bucket']}-policy")


def table(ctx: Deployment, logical_id: str, props: dict[str, Any]) -> None:
    dynamodb = ctx.client("dynamodb")
    name = props.get("TableName") or f"{ctx.stack_name}-{logical_id}"
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in (
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "ProvisionedThroughput",
        "StreamSpecification",
    ):
        if key in props:
            request[key] = props[key]
    if "SSESpecification" in props:
        request["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    description = dynamodb.create_table(**request)["TableDescription"]
    if "TimeToLiveSpecification" in props:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
        )
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    ctx.created(
        logical_id,
        name,
        Arn=description["TableArn"],
        StreamArn=description.get("LatestStreamArn"),
    )


def _s3_notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration, in the shape of the S3 API."""
    converted: dict[str, Any] = {}
    kinds = {
        "QueueConfigurations": ("Queue", "QueueArn"),
        "TopicConfigurations": ("Topic", "TopicArn"),
        "LambdaConfigurations": ("Function", "LambdaFunctionArn"),
    }
    for kind, (target, api_target) in kinds.items():
        entries = []
        for entry in config.get(kind, []):
            item: dict[str, Any] = {api_target: entry[target], "Events": [entry["Event"]]}
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                item["Filter"] = {
                    "Key": {
                        "FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
                    }
                }
            entries.append(item)
        if entries:
            converted[kind] = entries
    return converted


HANDLERS: dict[str, Handler] = {
    "AWS::S3::Bucket": bucket,
    "AWS::S3::BucketPolicy": bucket_policy,
    "AWS::DynamoDB::Table": table,
}
