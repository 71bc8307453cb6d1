"""SQS (patch 37): SendMessage without a body is refused as SQS refuses it."""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.sqs.exceptions import MissingParameter
from moto.sqs.responses import SQSResponse

from photoflow_local.patches.base import replace, state


# ----------------------------------------------------------------- 37. SendMessage
def _send_message(self: SQSResponse) -> ActionResult:
    """SQS answers MissingParameter ("The request must contain the parameter MessageBody.")
    to a SendMessage without MessageBody; moto failed on it with a Python error."""
    if self._get_param("MessageBody") is None:
        raise MissingParameter("MessageBody")
    result: ActionResult = state.originals["sqs_send_message"](self)
    return result


def install() -> None:
    replace(SQSResponse, "send_message", _send_message, "sqs_send_message")
