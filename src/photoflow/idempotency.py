"""Where functions remember what they did once (Powertools idempotency), created once."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from photoflow import clients
from photoflow.config import IdempotencyConfig, load


@functools.cache
def store() -> DynamoDBPersistenceLayer:
    """The IdempotencyTable; Powertools keys each record by function and handler."""
    return DynamoDBPersistenceLayer(
        table_name=load(IdempotencyConfig).table_name, boto3_client=clients.dynamodb()
    )
