"""Quality checked, not assumed: each derivative against a LANCZOS resize of the full decode.

The reference is what the slow, obvious route would make: the whole photo decoded,
turned upright, resized with LANCZOS to the derivative's size and, for a filtered copy,
given the filter's textbook definition (written out here, not taken from the code under
test). PSNR is over the three RGB channels of the decoded derivative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from types import MappingProxyType

from PIL import Image, ImageChops, ImageFilter, ImageOps

_SEPIA = (
    0.393, 0.769, 0.189, 0.0,
    0.349, 0.686, 0.168, 0.0,
    0.272, 0.534, 0.131, 0.0,
)  # fmt: skip

REFERENCE_FILTERS: Mapping[str, Callable[[Image.Image], Image.Image]] = MappingProxyType(
    {
        "grayscale": lambda image: ImageOps.grayscale(image).convert("RGB"),
        "sepia": lambda image: image.convert("RGB", _SEPIA),
        "blur": lambda image: image.filter(
            ImageFilter.GaussianBlur(radius=max(1.0, max(image.size) / 250))
        ),
        "sharpen": lambda image: image.filter(
            ImageFilter.UnsharpMask(
                radius=max(1.0, max(image.size) / 1000), percent=120, threshold=3
            )
        ),
    }
)


@dataclass(frozen=True)
class Fidelity:
    derivative: str  # "jpeg 2048", "webp 256", "filter sepia"
    size: tuple[int, int]
    psnr_db: float


def psnr(image: Image.Image, reference: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB of two RGB images of one size; inf when identical."""
    if image.size != reference.size:
        raise ValueError(f"sizes differ: {image.size} and {reference.size}")
    histogram = ImageChops.difference(image.convert("RGB"), reference.convert("RGB")).histogram()
    squared = sum((value % 256) ** 2 * count for value, count in enumerate(histogram))
    mean = squared / (3 * image.width * image.height)
    return math.inf if mean == 0 else 10 * math.log10(255**2 / mean)


def full_decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    upright = ImageOps.exif_transpose(image)
    return upright if upright.mode == "RGB" else upright.convert("RGB")


def measure(
    original: bytes, thumbnails: Sequence[bytes], filtered: Sequence[tuple[str, bytes]]
) -> list[Fidelity]:
    """The PSNR of every thumbnail (any format) and filtered copy against the reference's.

    Thumbnails are labelled by their format and long edge ("jpeg 2048", "avif 256").
    """
    full = full_decode(original)
    Filter = Callable[[Image.Image], Image.Image] | None
    outputs: list[tuple[str, bytes, Filter]] = [("", data, None) for data in thumbnails]
    outputs += [(f"filter {name}", data, REFERENCE_FILTERS[name]) for name, data in filtered]
    results = []
    for name, data, reference_filter in outputs:
        derivative = Image.open(BytesIO(data))
        derivative.load()
        reference = full.resize(derivative.size, Image.Resampling.LANCZOS)
        if reference_filter is None:
            label = f"{(derivative.format or '?').lower()} {max(derivative.size)}"
        else:
            label, reference = name, reference_filter(reference)
        results.append(Fidelity(label, derivative.size, psnr(derivative, reference)))
    return results
