"""Timing and the small statistics the report needs, kept pure so they can be unit-tested."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) quantile, interpolated linearly between the closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, got {fraction}")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """Median of the per-round ratios: each pair ran back to back, under the same load."""
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError("paired_ratio needs two non-empty series of the same length")
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


@dataclass(frozen=True)
class Timing:
    """One case's runs, in milliseconds of process CPU time and of wall-clock time."""

    cpu_ms: list[float]
    wall_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def median_wall_ms(self) -> float:
        return statistics.median(self.wall_ms)

    def ratio_to(self, other: Timing) -> float:
        return paired_ratio(self.cpu_ms, other.cpu_ms)


def time_interleaved(
    cases: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 1
) -> dict[str, Timing]:
    """Run every case once per round, rotating the order, and time each run.

    Interleaving puts every case under the same background load, so that ratios
    between cases hold even when absolute times drift. The work measured is
    single-threaded, so the process's CPU time is what it would take on an idle
    core; it is what the targets use, because another process stealing the core
    does not inflate it. Wall time is kept for reference. The garbage collector is
    kept out of the timed runs.
    """
    if rounds < 1:
        raise ValueError("at least one round is needed")
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            gc.disable()
            try:
                wall_start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
                cases[name]()
                cpu_end, wall_end = time.process_time_ns(), time.perf_counter_ns()
            finally:
                gc.enable()
            cpu[name].append((cpu_end - cpu_start) / 1e6)
            wall[name].append((wall_end - wall_start) / 1e6)
    return {name: Timing(cpu[name], wall[name]) for name in names}
