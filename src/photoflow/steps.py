"""The three Lambda steps of the workflow, as plain functions.

Each takes the execution's ``photo`` and the validated configuration and
returns the named result the ASL selects from; the handlers only parse and
delegate. Imaging errors (``CorruptImage``, ``TooManyPixels``...) propagate
with their class names, which the state machine's Catch records.
"""

from __future__ import annotations

from typing import Any

from photoflow import storage
from photoflow.config import ImagingConfig, MetadataConfig, ThumbnailConfig
from photoflow.duplicates import find_original
from photoflow.imaging import (
    ThumbnailSet,
    apply_filters,
    make_thumbnail_set,
    read_metadata,
    summarize_rendition,
)
from photoflow.models import PhotoRef
from photoflow.photos import PhotoRepository

_FORMATS = {"image/jpeg": "jpeg", "image/webp": "webp", "image/avif": "avif"}


def describe(photo: PhotoRef, config: MetadataConfig) -> dict[str, Any]:
    """Validate the original from its header and read its EXIF; no pixel decode."""
    data = storage.read_original(photo, config.max_photo_bytes)
    return describe_bytes(data, config)


def describe_bytes(data: bytes, config: MetadataConfig) -> dict[str, Any]:
    """``describe`` of a photo's bytes; the GPS position only if the deployment keeps it."""
    meta = read_metadata(data, config.limits)
    return {
        "metadata": {
            "format": meta.format,
            "contentType": meta.content_type,
            "width": meta.width,
            "height": meta.height,
            "orientation": meta.orientation,
            "frames": meta.frames,
            "camera": {
                "make": meta.camera_make,
                "model": meta.camera_model,
                "lens": meta.lens_model,
            },
            "takenAt": meta.taken_at,
            "gps": (
                {
                    "latitude": meta.gps.latitude,
                    "longitude": meta.gps.longitude,
                    "altitude": meta.gps.altitude,
                }
                if meta.gps and config.keep_location
                else None
            ),
        }
    }


def thumbnail_set(data: bytes, config: ThumbnailConfig, *, modern: bool = True) -> ThumbnailSet:
    """The thumbnail step's imaging, as configured (the bench times it, with and without
    the modern formats)."""
    return make_thumbnail_set(
        data,
        config.thumbnail_sizes,
        config.limits,
        quality=config.jpeg_quality,
        square=config.square_thumbnail_size or None,
        modern=config.modern if modern else (),
    )


def thumbnails(
    photo: PhotoRef, config: ThumbnailConfig, photos: PhotoRepository | None = None
) -> dict[str, Any]:
    """Every configured size from one decode, and a pixel summary of the smallest.

    ``thumbnails`` are the JPEG sizes; ``square`` the smart-cropped square (None unless
    configured); ``renditions`` every file written, each with its format, size and bytes
    (the JPEG sizes, the square, each size in each modern format), for srcset and
    <picture> sources. ``duplicateOf``: the owner's earlier photo this one nearly
    repeats (photoflow.duplicates), looked up in ``photos`` when given.
    """
    made = thumbnail_set(storage.read_original(photo, config.max_photo_bytes), config)
    refs = [storage.write_rendition(photo, "thumbnails", r) for r in made.thumbnails]
    square = (
        None if made.square is None else storage.write_rendition(photo, "thumbnails", made.square)
    )
    modern = [storage.write_rendition(photo, "thumbnails", r) for r in made.modern]
    pixels = summarize_rendition(made.thumbnails[-1].data)
    original = None if photos is None else find_original(photos, photo, pixels.phash)
    return {
        "thumbnails": [ref.dump() for ref in refs],
        "square": None if square is None else square.dump(),
        "renditions": [
            {**ref.dump(), "format": _FORMATS[ref.content_type]}
            for ref in [*refs, *([square] if square else []), *modern]
        ],
        "pixels": {
            "dominantColours": pixels.dominant_colours,
            "palette": [{"colour": c.colour, "share": c.share} for c in pixels.palette],
            "phash": pixels.phash,
            "blurhash": pixels.blurhash,
        },
        "duplicateOf": original,
    }


def filters(photo: PhotoRef, config: ImagingConfig) -> dict[str, Any]:
    """Every configured filter, applied to one decode at the filter size."""
    data = storage.read_original(photo, config.max_photo_bytes)
    renditions = apply_filters(
        data, config.filters, config.filter_max_edge, config.limits, quality=config.jpeg_quality
    )
    return {"filters": [storage.write_rendition(photo, "filters", r).dump() for r in renditions]}
