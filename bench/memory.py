"""Peak memory of one step in a fresh process, as Lambda counts it: resident set size.

The parent runs ``python -m bench.memory MODE PHOTO DERIVATIVE CONFIG`` once per
step. Every child imports the same modules; the "idle" child stops there, so
its peak is the interpreter's baseline, and a step's own peak is the difference.
A step child reads the photo's bytes (as the function holds them after its S3
read), runs the step once and reports its peak RSS.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import routes
from photoflow.config import ThumbnailConfig

ROOT = Path(__file__).resolve().parent.parent
IDLE = "idle"
STEPS: dict[str, Callable[[bytes, bytes, ThumbnailConfig], object]] = {
    "plain decode": lambda data, _, config: routes.plain_decode(data),
    # As deployed: the JPEG sizes, the square and every modern format.
    "thumbnail step": lambda data, _, config: routes.thumbnail_step_every_format(data, config),
    "filter step": lambda data, _, config: routes.filter_step(data, config),
    "metadata step": routes.metadata_step,
}


@dataclass(frozen=True)
class PeakMemory:
    step: str
    process_mb: float  # the child's peak RSS: what Lambda reports as "Max Memory Used"
    step_mb: float  # above the idle interpreter's peak


def peak_rss_mb() -> float:
    """This process's peak RSS in MB.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child started by a big
    parent reports the parent's peak; the kernel's high-water mark of the
    process's own memory (VmHWM) starts afresh at exec.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # reported in kB
    raise RuntimeError("no VmHWM line in /proc/self/status")


def measure_steps(
    photo: Path, derivative: Path, config: ThumbnailConfig, repeats: int = 3
) -> list[PeakMemory]:
    """Each step's peak over ``repeats`` fresh processes, against the idle baseline's median."""
    settings = config.model_dump_json(by_alias=True)

    def child(mode: str) -> float:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.memory", mode, str(photo), str(derivative), settings],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        peak: float = json.loads(completed.stdout)["peak_mb"]
        return peak

    idle = statistics.median(child(IDLE) for _ in range(repeats))
    results = [PeakMemory(IDLE, idle, 0.0)]
    for step in STEPS:
        peak = max(child(step) for _ in range(repeats))
        results.append(PeakMemory(step, peak, peak - idle))
    return results


def main(arguments: Sequence[str]) -> int:
    mode, photo, derivative, settings = arguments
    config = ThumbnailConfig.model_validate_json(settings)
    if mode != IDLE:
        STEPS[mode](Path(photo).read_bytes(), Path(derivative).read_bytes(), config)
    sys.stdout.write(json.dumps({"peak_mb": peak_rss_mb()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
