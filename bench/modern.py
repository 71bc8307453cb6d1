"""Modern formats: what each WebP and AVIF encoder effort costs in time and saves in bytes.

Every candidate encodes the thumbnail step's own pixels (each configured size of the
bench's photo), timed interleaved like the other cases. The rule that chose the
template's defaults: the lowest cost per photo of the encoding (its CPU time as Lambda
bills it, at the thumbnail function's memory) plus sending the files
``DOWNLOADS_PER_FILE`` times (S3 transfer out). A slower effort pays for itself only
when its files are downloaded often enough.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from io import BytesIO

from PIL import Image

from bench import cost, quality
from bench.stats import time_interleaved
from photoflow.imaging import ModernFormat

# An assumption, not a measurement: each rendition fetched this many times over its life.
DOWNLOADS_PER_FILE = 10
# The template's effort may cost at most this much more than the cheapest measured:
# neighbouring efforts can swap places from one run to the next by a few percent.
COST_SLACK = 1.1
CANDIDATES = {
    "webp": (0, 1, 2, 3, 4, 6),  # method: 0 fastest .. 6 smallest
    "avif": (6, 7, 8, 9, 10),  # speed: 10 fastest; under 6, seconds per photo
}


@dataclass(frozen=True)
class Candidate:
    encoder: ModernFormat
    ms: float  # every size, median CPU time
    total_bytes: int
    largest_psnr_db: float  # the largest size against its pixels before encoding


def sweep(images: Sequence[Image.Image], configured: ModernFormat, rounds: int) -> list[Candidate]:
    """Every candidate effort of ``configured``'s format, at its quality."""
    encoders = [
        ModernFormat(configured.name, configured.quality, effort)
        for effort in CANDIDATES[configured.name]
    ]
    cases: dict[str, Callable[[], object]] = {
        str(encoder.effort): partial(_encode_all, images, encoder) for encoder in encoders
    }
    timings = time_interleaved(cases, rounds)
    candidates = []
    for encoder in encoders:
        outputs = _encode_all(images, encoder)
        largest = Image.open(BytesIO(outputs[0]))
        largest.load()
        candidates.append(
            Candidate(
                encoder,
                timings[str(encoder.effort)].median_ms,
                sum(map(len, outputs)),
                quality.psnr(largest, images[0]),
            )
        )
    return candidates


def cost_per_photo(candidate: Candidate, prices: cost.Prices, memory_mb: int) -> float:
    """USD per photo: the encodes at Lambda's price, the files sent ``DOWNLOADS_PER_FILE`` times."""
    billed_ms = candidate.ms * cost.cpu_share_factor(memory_mb, prices)
    lambda_usd = cost.lambda_gb_seconds(billed_ms, memory_mb) * prices.usd["lambda_gb_second"]
    transfer_usd = (
        candidate.total_bytes * DOWNLOADS_PER_FILE / cost.GB * prices.usd["s3_transfer_out_gb"]
    )
    return lambda_usd + transfer_usd


def choose(candidates: Sequence[Candidate], prices: cost.Prices, memory_mb: int) -> Candidate:
    """The candidate of the lowest ``cost_per_photo``."""
    return min(candidates, key=lambda candidate: cost_per_photo(candidate, prices, memory_mb))


def _encode_all(images: Sequence[Image.Image], encoder: ModernFormat) -> list[bytes]:
    return [encoder.encode(image, "bench").data for image in images]
