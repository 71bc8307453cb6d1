"""Logger, Tracer and Metrics shared by every function (one instance each per cold start).

Every failure is logged where it happens, as one ERROR line with the function's name
(Powertools' Lambda context keys) and the id of the input that failed: the photo's id for
a step (its correlation id), the SQS message's id and what it is about for a batch
record (:func:`failure_logged`), so that a record reported failed, and later
dead-lettered, is never silent. An invocation that adds no metric is normal here (a
duplicate event, a refused photo): Powertools' warning about it is silenced, as its
documentation suggests.

Besides each function's own counts, two facts every dashboard wants:
- ``StepDuration`` (milliseconds, dimension ``step``): how long each workflow step ran,
  whether it succeeded or raised; see :func:`timed_step`.
- ``PhotosProcessed`` / ``PhotosFailed``: one per ended execution, counted where every
  ended execution arrives (the reconciler); see :func:`count_ended_execution`.
"""

from __future__ import annotations

import contextlib
import functools
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()
warnings.filterwarnings("ignore", "No application metrics to publish")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def logs_failure(handler: Handler) -> Handler:
    """Log the invocation's failure with the input's id (the correlation id) before it
    propagates. Place it under ``logger.inject_lambda_context``, which adds the
    function's name and sets that id."""

    @functools.wraps(handler)
    def logged(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as error:
            logger.exception(
                f"invocation failed: {type(error).__name__}: {error}",
                input_id=logger.get_correlation_id(),
                error=type(error).__name__,
            )
            raise

    return logged  # type: ignore[return-value]


@contextlib.contextmanager
def failure_logged(what: str, **ids: Any) -> Iterator[dict[str, Any]]:
    """Log a failure of the block with ``ids`` and whatever the block adds to them (what
    the input is about, once known), then let it propagate."""
    known = dict(ids)
    try:
        yield known
    except Exception as error:
        logger.exception(
            f"{what} failed: {type(error).__name__}: {error}",
            error=type(error).__name__,
            **known,
        )
        raise


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
