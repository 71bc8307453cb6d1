"""PhotoFlow's imaging core: bytes in, bytes and small dataclasses out.

Pure Pillow (plus pi-heif, pillow-heif's decode-only build, for HEIC/HEIF), no AWS
and no file system: the Lambda handlers fetch and store the bytes. Every entry point takes the
``Limits`` to enforce and refuses untrusted input before decoding it (see
``probe``); refusals are ``InvalidPhoto`` subclasses, permanent by design.
"""

from __future__ import annotations

import pi_heif

from photoflow.imaging.crop import interesting_square
from photoflow.imaging.errors import (
    CorruptImage,
    EmptyPhoto,
    InvalidPhoto,
    PhotoTooLarge,
    TooManyPixels,
    UnsupportedFormat,
)
from photoflow.imaging.filters import FILTERS, apply_filters, validate_filter_names
from photoflow.imaging.limits import DEFAULT_FORMATS, Limits
from photoflow.imaging.metadata import (
    NEAR_DUPLICATE_DISTANCE,
    DominantColour,
    GpsPosition,
    PhotoMetadata,
    PixelSummary,
    hamming_distance,
    is_near_duplicate,
    read_metadata,
    summarize_pixels,
    summarize_rendition,
)
from photoflow.imaging.placeholder import blurhash_of, encode_blurhash
from photoflow.imaging.probe import CONTENT_TYPES, PhotoHeader, open_checked, probe
from photoflow.imaging.rendition import MODERN_FORMATS, ModernFormat, Rendition
from photoflow.imaging.thumbnails import (
    ThumbnailSet,
    decode_fitted,
    decode_for_size,
    fitted_size,
    make_thumbnail_set,
    make_thumbnails,
    open_for_size,
    thumbnail_images,
)

# Importing the package is the one place the HEIF opener is registered (idempotent anyway).
pi_heif.register_heif_opener()

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_FORMATS",
    "FILTERS",
    "MODERN_FORMATS",
    "NEAR_DUPLICATE_DISTANCE",
    "CorruptImage",
    "DominantColour",
    "EmptyPhoto",
    "GpsPosition",
    "InvalidPhoto",
    "Limits",
    "ModernFormat",
    "PhotoHeader",
    "PhotoMetadata",
    "PhotoTooLarge",
    "PixelSummary",
    "Rendition",
    "ThumbnailSet",
    "TooManyPixels",
    "UnsupportedFormat",
    "apply_filters",
    "blurhash_of",
    "decode_fitted",
    "decode_for_size",
    "encode_blurhash",
    "fitted_size",
    "hamming_distance",
    "interesting_square",
    "is_near_duplicate",
    "make_thumbnail_set",
    "make_thumbnails",
    "open_checked",
    "open_for_size",
    "probe",
    "read_metadata",
    "summarize_pixels",
    "summarize_rendition",
    "thumbnail_images",
    "validate_filter_names",
]
