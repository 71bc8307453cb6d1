"""The ways of turning a photo into thumbnails that the benchmark compares.

``thumbnail_step``, ``filter_step`` and ``metadata_step`` are the workflow's
steps without S3 (``photoflow.steps`` minus the reads and writes). The others are
yardsticks: a plain decode (the floor for anything that reads every pixel), a
1/8-scale decode, the naive route and libvips, each ending with the same pixel
summary of its smallest output, so that the routes differ in imaging only.
"""

from __future__ import annotations

import os
from io import BytesIO
from types import ModuleType

from PIL import Image, ImageOps

from photoflow import steps
from photoflow.config import ImagingConfig, ThumbnailConfig
from photoflow.imaging import (
    ModernFormat,
    apply_filters,
    fitted_size,
    make_thumbnails,
    read_metadata,
    summarize_rendition,
)
from photoflow.imaging.rendition import encode_jpeg

# Set before libvips starts: the comparison is single-threaded, like the Pillow routes.
os.environ.setdefault("VIPS_CONCURRENCY", "1")


def load_pyvips() -> ModuleType | None:
    """pyvips, single-threaded and with its operation cache off; None when not installed."""
    try:
        import pyvips
    except (ImportError, OSError):
        return None
    pyvips.concurrency_set(1)
    pyvips.cache_set_max(0)  # the cache would hand back the previous run's thumbnail
    return pyvips


def plain_decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


def eighth_scale_decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.draft("RGB", (image.width // 8, image.height // 8))
    image.load()
    return image


def thumbnail_step(data: bytes, config: ThumbnailConfig) -> list[bytes]:
    """The step without its modern formats: the JPEG sizes (returned), the square, the summary."""
    made = steps.thumbnail_set(data, config, modern=False)
    summarize_rendition(made.thumbnails[-1].data)
    return [rendition.data for rendition in made.thumbnails]


def thumbnail_step_every_format(data: bytes, config: ThumbnailConfig) -> list[bytes]:
    """The step as deployed: every file it writes (JPEG sizes, square, modern formats)."""
    made = steps.thumbnail_set(data, config)
    summarize_rendition(made.thumbnails[-1].data)
    square = [made.square.data] if made.square else []
    return [r.data for r in made.thumbnails] + square + [r.data for r in made.modern]


def modern_encodes(images: list[Image.Image], encoder: ModernFormat) -> list[bytes]:
    """One modern format's share of the step: encoding every size's pixels."""
    return [encoder.encode(image, "bench").data for image in images]


def single_thumbnail(data: bytes, config: ImagingConfig) -> bytes:
    size = min(config.thumbnail_sizes)
    return make_thumbnails(data, [size], config.limits, quality=config.jpeg_quality)[0].data


def filter_step(data: bytes, config: ImagingConfig) -> list[bytes]:
    renditions = apply_filters(
        data, config.filters, config.filter_max_edge, config.limits, quality=config.jpeg_quality
    )
    return [rendition.data for rendition in renditions]


def metadata_step(original: bytes, derivative: bytes, config: ImagingConfig) -> None:
    """EXIF from the original's header, pixel summary from the smallest derivative."""
    read_metadata(original, config.limits)
    summarize_rendition(derivative)


def naive_thumbnails(data: bytes, config: ImagingConfig) -> list[bytes]:
    """Full decode, then one LANCZOS resize per size from the full image."""
    image = plain_decode(data)
    image = ImageOps.exif_transpose(image)
    quality = config.jpeg_quality
    outputs = [
        encode_jpeg(
            image.resize(fitted_size(image.size, size), Image.Resampling.LANCZOS),
            str(size),
            quality=quality,
        ).data
        for size in sorted(config.thumbnail_sizes, reverse=True)
    ]
    summarize_rendition(outputs[-1])
    return outputs


def pyvips_thumbnails(pyvips: ModuleType, data: bytes, config: ImagingConfig) -> list[bytes]:
    """libvips: thumbnail (shrink-on-load) to the largest size, then each smaller from the last."""
    sizes = sorted(config.thumbnail_sizes, reverse=True)
    quality = config.jpeg_quality
    # Materialised, or every smaller size would run the whole decode pipeline again.
    image = pyvips.Image.thumbnail_buffer(data, sizes[0], height=sizes[0], size="down")
    image = image.copy_memory()
    outputs = [image.jpegsave_buffer(Q=quality, keep="none")]
    for size in sizes[1:]:
        image = image.thumbnail_image(size, height=size, size="down").copy_memory()
        outputs.append(image.jpegsave_buffer(Q=quality, keep="none"))
    summarize_rendition(outputs[-1])
    return outputs


def output_sizes(outputs: list[bytes]) -> list[tuple[int, int]]:
    return [Image.open(BytesIO(output)).size for output in outputs]
