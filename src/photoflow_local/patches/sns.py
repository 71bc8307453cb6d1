"""SNS (patch 36): Publish answers as SNS does for FIFO topics and for a missing topic."""

from __future__ import annotations

import itertools
import re
from typing import Any

from moto.core.responses import ActionResult
from moto.sns.exceptions import SNSInvalidParameter
from moto.sns.models import SNSBackend
from moto.sns.responses import SNSResponse

from photoflow_local.patches.base import replace, state

# ----------------------------------------------------------------- 36. Publish
_TOPIC_ARN = re.compile(r"^arn:[^:]+:sns:[^:]+:\d{12}:[^:/]+$")
# SNS's sequence numbers of FIFO messages: large, increasing, not consecutive, 20 digits.
_sequence = itertools.count(10_000_000_000_000_000_000, 1000)


def _publish(self: SNSBackend, message: str, arn: str | None = None, **kwargs: Any) -> str:
    """moto's Publish, except for what SNS says of a topic that does not exist (moto looked
    for a platform endpoint: "Endpoint does not exist") and of a FIFO message without a
    group ("MessageGroupId" as a missing parameter, an SQS error)."""
    if arn and _TOPIC_ARN.match(arn):
        topic = self.get_topic(arn)  # TopicNotFound: "Topic does not exist"
        if topic.fifo_topic and not kwargs.get("group_id"):
            raise SNSInvalidParameter(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
            )
    message_id: str = state.originals["sns_publish"](self, message, arn=arn, **kwargs)
    return message_id


def _publish_response(self: SNSResponse) -> ActionResult:
    """A message published to a FIFO topic is answered with its sequence number, as SNS
    answers it (API reference: Publish, SequenceNumber)."""
    result: ActionResult = state.originals["sns_publish_response"](self)
    arn = self._get_param("TopicArn") or self._get_param("TargetArn") or ""
    body = getattr(result, "result", None)
    if str(arn).endswith(".fifo") and isinstance(body, dict):
        body["SequenceNumber"] = str(next(_sequence))
    return result


def install() -> None:
    replace(SNSBackend, "publish", _publish, "sns_publish")
    replace(SNSResponse, "publish", _publish_response, "sns_publish_response")
