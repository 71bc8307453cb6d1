"""S3 (patch 21): event notifications name the object's version and order its events."""

from __future__ import annotations

import itertools
import time
from typing import Any

from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeBucket

from photoflow_local.patches.base import replace, state

# ----------------------------------------------------------------- 21. S3 events
_sequence = itertools.count(1)


def _get_s3_event(
    event_name: str, bucket: FakeBucket, key: Any, notification_id: str
) -> dict[str, list[dict[str, Any]]]:
    event: dict[str, list[dict[str, Any]]] = state.originals["get_s3_event"](
        event_name, bucket, key, notification_id
    )
    for record in event["Records"]:
        described = record["s3"]["object"]
        if bucket.is_versioned and key.version_id and key.version_id != "null":
            described["versionId"] = key.version_id
        # Hexadecimal and increasing, as AWS's: later events of a key compare greater.
        described["sequencer"] = f"{time.time_ns():016X}{next(_sequence):04X}"
    return event


def install() -> None:
    replace(s3_notifications, "_get_s3_event", _get_s3_event, "get_s3_event")
