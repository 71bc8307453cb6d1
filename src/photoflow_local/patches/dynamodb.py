"""DynamoDB (patches 28, 32): UpdateItem answers ConsumedCapacity only when it is asked
for; item operations validate their table name and item or key as DynamoDB does."""

from __future__ import annotations

import re
from collections.abc import Callable

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.responses import DynamoHandler

from photoflow_local.patches.base import replace, set_attribute, state


# ----------------------------------------------------------------- 28. UpdateItem
def _update_item(self: DynamoHandler) -> ActionResult:
    """moto's UpdateItem, without the ConsumedCapacity it adds to every answer: AWS
    answers it only for ReturnConsumedCapacity TOTAL or INDEXES (API reference)."""
    result: ActionResult = state.originals["dynamodb_update_item"](self)
    if self.body.get("ReturnConsumedCapacity", "NONE") == "NONE":
        body = getattr(result, "result", None)
        if isinstance(body, dict):
            body.pop("ConsumedCapacity", None)
    return result


# ----------------------------------------------------------------- 32. validation
# DynamoDB's constraints on a table name (API reference, CreateTable: TableName).
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
# The member each item operation needs, as DynamoDB names it in a validation error.
_REQUIRED = {
    "put_item": ("Item", "item"),
    "get_item": ("Key", "key"),
    "delete_item": ("Key", "key"),
}


def _validation_errors(body: dict[str, object], action: str) -> list[str]:
    errors = []
    name = body.get("TableName")
    if isinstance(name, str) and not _TABLE_NAME.fullmatch(name):
        errors.append(
            f"Value '{name}' at 'tableName' failed to satisfy constraint: Member must satisfy"
            " regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    if action in _REQUIRED:
        member, shown = _REQUIRED[action]
        if body.get(member) is None:
            errors.append(
                f"Value null at '{shown}' failed to satisfy constraint: Member must not be null"
            )
    return errors


def _validated(action: str) -> Callable[[DynamoHandler], ActionResult]:
    """moto's ``action``, after the checks DynamoDB makes of its parameters first: a table
    name out of its pattern, an item or key that is null. moto looked the name up (not
    found) or failed on the null with a Python error."""
    original: Callable[[DynamoHandler], ActionResult] = state.originals[
        f"dynamodb_validated_{action}"
    ]

    def checked(self: DynamoHandler) -> ActionResult:
        errors = _validation_errors(self.body, action)
        if errors:
            count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''}"
            raise MockValidationException(f"{count} detected: " + "; ".join(errors))
        return original(self)

    return checked


def install() -> None:
    replace(DynamoHandler, "update_item", _update_item, "dynamodb_update_item")
    for action in ("put_item", "get_item", "delete_item", "update_item"):
        state.originals[f"dynamodb_validated_{action}"] = getattr(DynamoHandler, action)
        set_attribute(DynamoHandler, action, _validated(action))
