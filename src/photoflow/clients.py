"""AWS clients, created once per cold start.

boto3 honours AWS_ENDPOINT_URL, so the same code talks to AWS or to the local
stack without knowing which.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient
else:
    DynamoDBClient = S3Client = SFNClient = SNSClient = Any

_RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)


@functools.cache
def s3() -> S3Client:
    # Presigned URLs must be SigV4 (KMS-encrypted objects refuse SigV2).
    return boto3.client("s3", config=_RETRIES.merge(Config(signature_version="s3v4")))


@functools.cache
def dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_RETRIES)


@functools.cache
def stepfunctions() -> SFNClient:
    return boto3.client("stepfunctions", config=_RETRIES)


@functools.cache
def sns() -> SNSClient:
    return boto3.client("sns", config=_RETRIES)
