"""Cheap refusals and header facts, before a single pixel is decoded.

``open_checked`` is the only way the imaging core opens untrusted bytes. It
refuses, in this order and from the header alone: empty input, too many bytes,
anything that is not an accepted image format, and too many pixels (a 1 KB PNG
can declare 50000x50000 and decode to gigabytes). Pillow's own
decompression-bomb warning is treated as a refusal too.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from io import BytesIO
from types import MappingProxyType
from typing import Any

from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from photoflow.imaging.errors import (
    CorruptImage,
    EmptyPhoto,
    InvalidPhoto,
    PhotoTooLarge,
    TooManyPixels,
    UnsupportedFormat,
)
from photoflow.imaging.limits import Limits

CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "JPEG": "image/jpeg",
        "PNG": "image/png",
        "WEBP": "image/webp",
        "GIF": "image/gif",
        "TIFF": "image/tiff",
        "HEIF": "image/heif",
    }
)
# Pillow opens JPEGs that embed a second picture (most phone photos, with their MPF
# preview) as "MPO"; to everyone else they are JPEGs.
_SAME_FORMAT_AS = MappingProxyType({"MPO": "JPEG"})
# These openers report the upright size themselves: libheif applies the HEIF
# rotation, and Pillow's TIFF plugin swaps the size for orientations 5-8.
_ORIENTED_BY_OPENER = frozenset({"TIFF", "HEIF"})
_SWAPS_WIDTH_AND_HEIGHT = frozenset({5, 6, 7, 8})
_PIXEL_COUNTS = re.compile(r"(\d+) pixels")
_XMP_ORIENTATION = re.compile(r'tiff:Orientation(?:="|>)([0-9])')


@dataclass(frozen=True)
class PhotoHeader:
    """What the header says; ``width`` and ``height`` are as a viewer sees the photo."""

    format: str
    content_type: str
    width: int
    height: int
    orientation: int
    frames: int
    mode: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def open_checked(data: bytes, limits: Limits) -> ImageFile.ImageFile:
    """Open ``data`` lazily (header only) after every cheap refusal.

    Raises EmptyPhoto, PhotoTooLarge, UnsupportedFormat, CorruptImage (a header
    that starts like an accepted format but cannot be read) or TooManyPixels.
    """
    if not data:
        raise EmptyPhoto("the photo is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise PhotoTooLarge(
            f"photo is {_amount_of_bytes(len(data))} ({len(data):,} bytes), "
            f"over the {_amount_of_bytes(limits.max_bytes)} limit"
        )
    with _refusing_bombs(limits):
        try:
            image = Image.open(BytesIO(data), formats=limits.formats)
        except UnidentifiedImageError:
            raise _unidentified(data, limits) from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise CorruptImage(f"the image header cannot be read: {error}") from error
    photo_format = canonical_format(image)
    if photo_format not in limits.formats:
        image.close()
        raise UnsupportedFormat(_not_accepted(photo_format, limits))
    check_pixels(image.size, limits)
    return image


def probe(data: bytes, limits: Limits) -> PhotoHeader:
    """Header facts of an untrusted photo, after the same refusals as ``open_checked``."""
    image = open_checked(data, limits)
    try:
        return header_of(image, limits)
    finally:
        image.close()


def header_of(image: ImageFile.ImageFile, limits: Limits) -> PhotoHeader:
    """Header facts of an image from ``open_checked``; decodes nothing."""
    photo_format = canonical_format(image)
    width, height = upright_size(image)
    with decoding(limits, photo_format):
        # Counting frames walks the file's frame headers (GIF, TIFF) without decoding them.
        frames = int(getattr(image, "n_frames", 1))
    return PhotoHeader(
        format=photo_format,
        content_type=CONTENT_TYPES.get(photo_format, "application/octet-stream"),
        width=width,
        height=height,
        orientation=orientation_of(image),
        frames=frames,
        mode=image.mode,
    )


def canonical_format(image: Image.Image) -> str:
    name = image.format or ""
    return _SAME_FORMAT_AS.get(name, name)


def orientation_of(image: Image.Image) -> int:
    """The EXIF orientation the photo declares, 1 when absent or not a valid value."""
    if canonical_format(image) == "HEIF":
        # pi-heif resets the EXIF value once libheif has applied the rotation.
        value = image.info.get("original_orientation")
    else:
        value = header_exif(image).get(ExifTags.Base.Orientation)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright_size(image: Image.Image) -> tuple[int, int]:
    """The size as a viewer sees it, from the header: swapped for orientations 5-8."""
    width, height = image.size
    if (
        canonical_format(image) not in _ORIENTED_BY_OPENER
        and orientation_of(image) in _SWAPS_WIDTH_AND_HEIGHT
    ):
        return height, width
    return width, height


def header_exif(image: Image.Image) -> Image.Exif:
    """The EXIF found in the header, empty when there is none or it cannot be parsed.

    Never decodes: Pillow's PNG ``getexif`` loads the whole image to look for an
    eXIf chunk after the pixel data, so PNGs are read from their header chunks only.
    """
    try:
        if canonical_format(image) == "PNG":
            exif = Image.Exif()
            raw = image.info.get("exif")
            if isinstance(raw, bytes):
                exif.load(raw)
            xmp = image.info.get("XML:com.adobe.xmp")
            if ExifTags.Base.Orientation not in exif and isinstance(xmp, str):
                # As Pillow's getexif (and so exif_transpose) does for an XMP-only orientation.
                match = _XMP_ORIENTATION.search(xmp)
                if match is not None:
                    exif[ExifTags.Base.Orientation] = int(match[1])
            return exif
        return image.getexif()
    except Exception:
        # EXIF is optional, vendor-written and often malformed; a photo is not rejected for it.
        return Image.Exif()


def check_pixels(size: tuple[int, int], limits: Limits) -> None:
    width, height = size
    pixels = width * height
    if pixels > limits.max_pixels:
        raise TooManyPixels(
            f"image is {width}x{height} = {_amount_of_pixels(pixels)}, "
            f"over the {_amount_of_pixels(limits.max_pixels)} limit"
        )


@contextmanager
def decoding(limits: Limits, photo_format: str) -> Iterator[None]:
    """Wrap pixel decoding: a bomb becomes TooManyPixels, a decoder failure CorruptImage."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Process-wide Pillow switch: with it, a truncated upload would "succeed" half grey.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must be False")
    with _refusing_bombs(limits):
        try:
            yield
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise CorruptImage(
                f"the {photo_format} image data is damaged or incomplete: {error}"
            ) from error


@contextmanager
def _refusing_bombs(limits: Limits) -> Iterator[None]:
    # catch_warnings swaps the process-wide filter list for the block and restores it after.
    # A Lambda runs one event at a time. Where threads decode at once, the filters may be
    # restored out of order; no refusal depends on it beyond Pillow's own threshold, since
    # check_pixels applies the configured cap to every header.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            raise TooManyPixels(_bomb_message(str(bomb), limits)) from None


def _bomb_message(pillow_message: str, limits: Limits) -> str:
    numbers = [int(number) for number in _PIXEL_COUNTS.findall(pillow_message)]
    if len(numbers) != 2:
        return f"image is over the {_amount_of_pixels(limits.max_pixels)} limit"
    pixels, pillow_limit = numbers
    # Pillow's own threshold can sit below the configured cap: name the one that refused.
    limit = limits.max_pixels if pixels > limits.max_pixels else pillow_limit
    return f"image is {_amount_of_pixels(pixels)}, over the {_amount_of_pixels(limit)} limit"


def _unidentified(data: bytes, limits: Limits) -> InvalidPhoto:
    """Say what the bytes are, instead of Pillow's "cannot identify image file"."""
    image_format = _accepted_format_by_opener(data, limits) or _sniff_image_format(data)
    if image_format is None:
        accepted = ", ".join(limits.formats)
        looks_like = _sniff_document(data) or _text_start(data)
        if looks_like is not None:
            return UnsupportedFormat(
                f"not an image: it looks like {looks_like}; accepted formats: {accepted}"
            )
        return UnsupportedFormat(f"not an image in an accepted format ({accepted})")
    if image_format in limits.formats:
        return CorruptImage(
            f"the file starts like a {image_format} image but its header cannot be read"
        )
    return UnsupportedFormat(_not_accepted(image_format, limits))


def _not_accepted(photo_format: str, limits: Limits) -> str:
    return f"{photo_format} images are not accepted; accepted formats: {', '.join(limits.formats)}"


_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"8BPS", "PSD"),
    (b"\xff\x4f\xff\x51", "JPEG2000"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
    (b"qoif", "QOI"),
    (b"\x00\x00\x01\x00", "ICO"),
)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_DOCUMENTS = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"<svg", "an SVG drawing"),
    (b"<?xml", "an XML document"),
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
)
# As many bytes as Image.open hands to each opener's check.
_PREFIX_LENGTH = 16
# BMP's signature is two bytes: too weak alone, so BITMAPFILEHEADER's reserved zeros must match too.
_BMP_RESERVED = slice(6, 10)


def _accepted_format_by_opener(data: bytes, limits: Limits) -> str | None:
    """The accepted format whose opener (Pillow's, pi-heif's) takes these bytes for its own.

    Whatever an opener took for its format and then failed to read is named as that
    format: every TIFF byte order, every HEIF brand, with no second list to keep in step.
    """
    prefix = data[:_PREFIX_LENGTH]
    for name in limits.formats:
        opener = Image.OPEN.get(name)
        if opener is not None and opener[1] is not None and opener[1](prefix):
            return name
    return None


def _sniff_image_format(data: bytes) -> str | None:
    """The Pillow name of the image format these bytes start with, if any."""
    for signature, name in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if data[:2] == b"BM" and data[_BMP_RESERVED] == b"\x00" * 4:
        return "BMP"
    return None


def _sniff_document(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        return "an MP4 or QuickTime video"
    start = data[:64].lstrip().lower()
    for signature, kind in _DOCUMENTS:
        if start.startswith(signature.lower()):
            return kind
    return None


def _text_start(data: bytes) -> str | None:
    """``text ("its first line")`` when the bytes start as readable text, else None."""
    try:
        start = data[:64].decode("utf-8")
    except UnicodeDecodeError:
        start = data[:63].decode("utf-8", "ignore")  # a character cut at the 64th byte
    line = start.strip().split("\n", 1)[0].strip()
    if not line or not all(character.isprintable() for character in line):
        return None
    shown = line if len(line) <= 40 else line[:40] + "…"
    return f'text ("{shown}")'


def _amount_of_bytes(count: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def _amount_of_pixels(count: int) -> str:
    if count >= 100_000:
        return f"{count / 1_000_000:.1f} MP"
    return f"{count:,} pixels"
