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
    ``optimize`` is left off: it triples encode time for a few percent of size. A
    greyscale ("L") image gives a greyscale JPEG.
    """
    if image.mode not in ("RGB", "L"):
        raise ValueError(f"renditions are encoded from RGB or L images, got mode {image.mode}")
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


WEBP_CONTENT_TYPE = "image/webp"
AVIF_CONTENT_TYPE = "image/avif"
# Pillow's name, the content type, and the range of the encoder's effort setting.
_MODERN = {
    "webp": ("WEBP", WEBP_CONTENT_TYPE, range(7)),  # method: 0 fastest .. 6 smallest
    "avif": ("AVIF", AVIF_CONTENT_TYPE, range(11)),  # speed: 0 slowest/smallest .. 10 fastest
}
MODERN_FORMATS = tuple(_MODERN)


@dataclass(frozen=True)
class ModernFormat:
    """A WebP or AVIF rendition's encoder settings.

    ``effort`` is WebP's ``method`` (0-6, higher: slower and smaller) or AVIF's
    ``speed`` (0-10, higher: faster and larger): the bench measures both
    ("Modern formats") to choose them.
    """

    name: str  # "webp" or "avif"
    quality: int  # 1-100, each encoder's own scale
    effort: int

    def __post_init__(self) -> None:
        if self.name not in _MODERN:
            raise ValueError(f"modern formats are {', '.join(MODERN_FORMATS)}, got {self.name!r}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"{self.name} quality must be between 1 and 100, got {self.quality}")
        efforts = _MODERN[self.name][2]
        if self.effort not in efforts:
            raise ValueError(
                f"{self.name} effort must be between {efforts[0]} and {efforts[-1]},"
                f" got {self.effort}"
            )

    @property
    def content_type(self) -> str:
        return _MODERN[self.name][1]

    def encode(self, image: Image.Image, name: str) -> Rendition:
        """The image in this format, with no metadata at all (no EXIF, XMP or ICC profile)."""
        if image.mode != "RGB":
            raise ValueError(f"renditions are encoded from RGB images, got mode {image.mode}")
        pillow_format = _MODERN[self.name][0]
        options: dict[str, object] = {"quality": self.quality, "exif": b"", "xmp": b""}
        if pillow_format == "WEBP":
            options.update(method=self.effort, icc_profile=None)
        else:
            # One thread: a Lambda function of 1024 MB has about half a vCPU, and the
            # bench measures every route on one core. AVIF falls back to image.info for
            # the profile unless told.
            options.update(speed=self.effort, max_threads=1, icc_profile=None)
        buffer = BytesIO()
        image.save(buffer, pillow_format, **options)
        return Rendition(
            name=name,
            width=image.width,
            height=image.height,
            content_type=self.content_type,
            data=buffer.getvalue(),
        )
