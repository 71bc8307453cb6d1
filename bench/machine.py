"""The machine and library versions the figures were measured with."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from types import ModuleType

import pi_heif
from PIL import __version__ as pillow_version
from PIL import features


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown"
    for line in lines:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def describe(pyvips: ModuleType | None) -> list[tuple[str, str]]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    libvips = (
        f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips {pyvips.__version__})"
        if pyvips is not None
        else "not installed (pip install -r requirements/bench.txt)"
    )
    return [
        ("CPU", cpu_model()),
        ("cores", f"{usable} usable of {os.cpu_count()}"),
        ("load average", f"{load} (1, 5, 15 min) at start"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Pillow", f"{pillow_version}, libjpeg-turbo {features.version('libjpeg_turbo')}"),
        ("pi-heif", f"{pi_heif.__version__}, libheif {pi_heif.libheif_version()}"),
        ("libvips", libvips),
        ("OS", f"{platform.system()} {platform.release()}"),
    ]
