"""Logger, Tracer and Metrics shared by every function (one instance each per cold start).

Besides each function's own counts, two facts every dashboard wants:
- ``StepDuration`` (milliseconds, dimension ``step``): how long each workflow step ran,
  whether it succeeded or raised; see :func:`timed_step`.
- ``PhotosProcessed`` / ``PhotosFailed``: one per ended execution, counted where every
  ended execution arrives (the reconciler); see :func:`count_ended_execution`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

Handler = TypeVar("Handler", bound=Callable[..., Any])


def timed_step(step: str) -> Callable[[Handler], Handler]:
    """Record the wrapped handler's run time as ``StepDuration{step=<step>}``.

    Emitted on its own (not with the invocation's other metrics) so that the ``step``
    dimension stays off them, and emitted when the handler raises too: a failed step's
    time is part of what the workflow spent.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return handler(*args, **kwargs)
            finally:
                elapsed_ms = (time.perf_counter() - started) * 1000
                with single_metric(
                    name="StepDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms
                ) as metric:
                    metric.add_dimension(name="step", value=step)

        return timed  # type: ignore[return-value]

    return decorate


def ended_execution_metric(status: str) -> str:
    """``PhotosProcessed`` for a SUCCEEDED execution, ``PhotosFailed`` for any other end."""
    return "PhotosProcessed" if status == "SUCCEEDED" else "PhotosFailed"


def count_ended_execution(status: str) -> None:
    metrics.add_metric(name=ended_execution_metric(status), unit=MetricUnit.Count, value=1)
