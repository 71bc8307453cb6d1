"""Imaging timings: the workflow's steps against yardsticks, interleaved on the same photo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType

from bench import quality, routes
from bench.inputs import BenchPhoto
from bench.stats import Timing, paired_ratio, time_interleaved
from photoflow.config import ThumbnailConfig
from photoflow.imaging import thumbnail_images

PLAIN = "plain decode"
EIGHTH = "1/8-scale decode"
STEP = "thumbnail step"  # without the modern formats: JPEG sizes, square, summary
STEP_ALL = "thumbnail step, every format"  # as deployed
WEBP = "WebP encodes, every size"
AVIF = "AVIF encodes, every size"
NAIVE = "naive route"
VIPS = "pyvips route"
SINGLE = "single smallest thumbnail"
FILTERS = "filter step"
METADATA = "metadata step"
METADATA_ORIGINAL = "metadata, summary from original"
# A photo's whole imaging: what the three Lambda steps do to it, each from the original.
ALL_STEPS = (METADATA, STEP, FILTERS)


@dataclass
class PhotoResult:
    photo: BenchPhoto
    timings: dict[str, Timing]
    thumbnails: list[bytes]  # the thumbnail step's JPEG sizes, largest first
    filtered: list[bytes]
    written: list[bytes]  # every file the thumbnail step writes: JPEGs, square, modern formats
    notes: list[str] = field(default_factory=list)  # routes left out, or with other sizes
    fidelity: list[quality.Fidelity] = field(default_factory=list)

    @property
    def smallest_thumbnail(self) -> bytes:
        return self.thumbnails[-1]

    @property
    def derivative_bytes(self) -> int:
        return sum(map(len, self.written)) + sum(map(len, self.filtered))

    def steps_ratio(self) -> float | None:
        """The three steps of one photo together / a plain decode, paired round by round."""
        if any(case not in self.timings for case in (*ALL_STEPS, PLAIN)):
            return None
        rounds = zip(*(self.timings[case].cpu_ms for case in ALL_STEPS), strict=True)
        return paired_ratio([sum(runs) for runs in rounds], self.timings[PLAIN].cpu_ms)

    @property
    def lowest_psnr(self) -> float:
        return min(entry.psnr_db for entry in self.fidelity)

    def ratio(self, case: str, baseline: str) -> float | None:
        if case not in self.timings or baseline not in self.timings:
            return None
        return self.timings[case].ratio_to(self.timings[baseline])


def measure_photo(
    photo: BenchPhoto,
    config: ThumbnailConfig,
    pyvips: ModuleType | None,
    rounds: int,
    *,
    full: bool,
) -> PhotoResult:
    """Time the steps and yardsticks on one photo; ``full`` adds the slow and JPEG-only cases."""
    data = photo.data
    thumbnails = routes.thumbnail_step(data, config)
    written = routes.thumbnail_step_every_format(data, config)
    filtered = routes.filter_step(data, config)
    smallest = thumbnails[-1]
    cases: dict[str, Callable[[], object]] = {
        PLAIN: partial(routes.plain_decode, data),
        STEP: partial(routes.thumbnail_step, data, config),
        FILTERS: partial(routes.filter_step, data, config),
        METADATA: partial(routes.metadata_step, data, smallest, config),
    }
    if full and config.modern:
        # The modern formats priced on their own: each one's encodes of every size.
        images = [
            image for _, image in thumbnail_images(data, config.thumbnail_sizes, config.limits)
        ]
        cases[STEP_ALL] = partial(routes.thumbnail_step_every_format, data, config)
        labels = {"webp": WEBP, "avif": AVIF}
        for encoder in config.modern:
            cases[labels[encoder.name]] = partial(routes.modern_encodes, images, encoder)
    notes = []
    expected = routes.output_sizes(thumbnails)
    alternatives: dict[str, Callable[[], list[bytes]]] = {}
    if full:
        alternatives[NAIVE] = partial(routes.naive_thumbnails, data, config)
    if pyvips is not None:
        alternatives[VIPS] = partial(routes.pyvips_thumbnails, pyvips, data, config)
    for name, route in alternatives.items():
        try:
            sizes = routes.output_sizes(route())
        except Exception as error:  # a loader the libvips build lacks: leave the route out
            reason = (str(error).strip().splitlines() or [type(error).__name__])[-1]
            notes.append(f"{name} left out: {reason}")
            continue
        if sizes != expected:
            notes.append(f"{name} made sizes {sizes}, the step {expected}")
        cases[name] = route
    if full:
        cases[METADATA_ORIGINAL] = partial(routes.metadata_step, data, data, config)
        if photo.fmt == "JPEG":
            cases[EIGHTH] = partial(routes.eighth_scale_decode, data)
            cases[SINGLE] = partial(routes.single_thumbnail, data, config)
    timings = time_interleaved(cases, rounds)
    square = 1 if config.square_thumbnail_size else 0
    sized = written[: len(thumbnails)] + written[len(thumbnails) + square :]
    fidelity = quality.measure(data, sized, list(zip(config.filters, filtered, strict=True)))
    return PhotoResult(photo, timings, thumbnails, filtered, written, notes, fidelity)
