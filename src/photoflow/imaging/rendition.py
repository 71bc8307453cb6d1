"""An encoded derivative (thumbnail or filtered copy) and the one JPEG encoder that makes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

from PIL import Image

JPEG_CONTENT_TYPE = "image/jpeg"


@dataclass(frozen=True)
class Rendition:
    """One derived image: ``name`` is its size ("256") or filter ("sepia")."""

    name: str
    width: int
    height: int
    content_type: str
    data: bytes = field(repr=False)


def validate_quality(quality: int) -> None:
    # Above 95 libjpeg disables quantisation almost entirely: files balloon for no visible gain.
    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be between 1 and 95, got {quality}")


def encode_jpeg(image: Image.Image, name: str, *, quality: int) -> Rendition:
    """Baseline JPEG with no metadata at all: no EXIF, no GPS, no comment, no ICC profile.

    The pixels are already sRGB, which is what a JPEG without a profile means.
    ``optimize`` is left off: it triples encode time for a few percent of size.
    """
    if image.mode != "RGB":
        raise ValueError(f"renditions are encoded from RGB images, got mode {image.mode}")
    buffer = BytesIO()
    # Pillow falls back to image.info for the comment: a source photo's comment would survive.
    image.save(
        buffer, "JPEG", quality=quality, optimize=False, progressive=False, exif=b"", comment=b""
    )
    return Rendition(
        name=name,
        width=image.width,
        height=image.height,
        content_type=JPEG_CONTENT_TYPE,
        data=buffer.getvalue(),
    )
