"""An inline Map's iterations stop with it (patch 66).

moto 5.2.5 fails an inline Map state as soon as one iteration fails, but the iterations
still running go on in their threads, to their ends: their later states run after the Map
failed (a photo announced by a batch that had failed, then again when the batch is run
again). On AWS the other iterations are aborted when one fails (recorded: LocalStack's
Apache-2.0 test suite, timeouts/test_timeouts.snapshot.json ``test_service_lambda_map_timeout``:
MapIterationFailed, then TaskStateAborted and MapIterationAborted for each other iteration,
then MapStateFailed). Here they are stopped as a stopped execution is: each at its next state.
"""

from __future__ import annotations

import datetime

from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    inline_iteration_component as inline,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

from photoflow_local.patches.base import replace, state

InlineIterationComponent = inline.InlineIterationComponent


def _eval_body(self: InlineIterationComponent, env: Environment) -> None:
    before = set(map(id, env._frames))
    try:
        state.originals["inline_map_eval_body"](self, env)
    except Exception:
        # The frames this Map's workers opened (each iteration's frame is one of theirs).
        now = datetime.datetime.now(datetime.UTC)
        for frame in [frame for frame in list(env._frames) if id(frame) not in before]:
            frame.set_stop(stop_date=now, cause=None, error=None)
        raise


def install() -> None:
    replace(InlineIterationComponent, "_eval_body", _eval_body, "inline_map_eval_body")
