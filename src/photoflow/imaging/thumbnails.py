"""Thumbnails in several sizes from one decode.

The expensive part of a thumbnail is decoding the original, so it happens once,
at the smallest scale that (nearly) covers the largest size: a JPEG's decoder is
told the target (``draft``) and decodes at 1/2, 1/4 or 1/8 scale directly from
the DCT. Each smaller size is then made from the previous one, not from the
original. Every output is upright, sRGB, baseline JPEG, with no metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from io import BytesIO
from typing import NamedTuple

from PIL import Image, ImageCms, ImageFile, ImageOps

from photoflow.imaging.crop import interesting_square
from photoflow.imaging.errors import UnsupportedFormat
from photoflow.imaging.limits import Limits
from photoflow.imaging.probe import (
    canonical_format,
    decoding,
    open_checked,
    orientation_of,
    upright_size,
)
from photoflow.imaging.rendition import ModernFormat, Rendition, encode_jpeg, validate_quality

BACKGROUND = (255, 255, 255)
# The first step shrinks the big decode, where the filter's cost dominates. BOX (an area
# average, support 1/2) is the cheapest: a 24 MP photo's 1/2-scale decode (3000x2000)
# to 2048 px takes 57 ms with it, 83 ms with HAMMING or BILINEAR (support 1), about
# twice that with LANCZOS; encoded at quality 85, 39.9 dB against a LANCZOS resize of
# the full decode, against HAMMING's 40.4 dB. Later steps work on small images.
_FIRST_STEP = Image.Resampling.BOX
_LATER_STEPS = Image.Resampling.LANCZOS
# Above this shrink factor, resize() first box-reduces by an integer factor: much faster,
# and Pillow documents the result as indistinguishable from a direct resample at 3.0.
_REDUCING_GAP = 3.0
# A camera's 4000-4080 px long edge halves to 2000-2040 px, just short of a 2048 px
# thumbnail (and quarters to just short of 1024). Decoding at that DCT scale (or, for
# formats without one, box-reducing by that integer factor) and enlarging the last few
# percent takes half the time of a full decode and a 12 MP -> 3 MP resample. So
# thumbnails and filters accept a decode short of the target by up to 1/_UNDERSHOOT of
# each side. NEAREST does the enlarging: it repeats at most one row and column in 32.
# Measured on the bench's 12 MP JPEG at 2048 px: NEAREST 5 ms, BILINEAR 56 ms (as long
# as the decode), BOX 42 ms; against a LANCZOS resize of the full decode, 41.5 dB
# against 46.2 dB before encoding, and the same within 0.5 dB once encoded at quality 85
# (the bench prints each derivative's PSNR and holds it to a floor).
_UNDERSHOOT = 32
_ENLARGE = Image.Resampling.NEAREST
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_PROFILE_SPACES = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}  # pixel mode -> ICC colour space


class _Decoded(NamedTuple):
    image: Image.Image  # upright, RGB, sRGB, no metadata; long edge at least the target's
    upright_size: tuple[int, int]  # the original's size as a viewer sees it


def fitted_size(size: tuple[int, int], max_edge: int) -> tuple[int, int]:
    """``size`` scaled so that its long edge is ``max_edge``; never enlarged."""
    width, height = size
    long_edge = max(width, height)
    if long_edge <= max_edge:
        return width, height

    def scaled(edge: int) -> int:
        # Integer round-half-up: exact, and the long edge lands on max_edge precisely.
        return max(1, (2 * edge * max_edge + long_edge) // (2 * long_edge))

    return scaled(width), scaled(height)


@dataclass(frozen=True)
class ThumbnailSet:
    """What the thumbnail step makes from one decode."""

    thumbnails: list[Rendition]  # JPEG, largest first, named "<size>"
    square: Rendition | None  # the most interesting square, named "square"; None if not asked
    # Each size in each modern format asked for, named "<size>": sizes in the order of
    # ``thumbnails``, the formats in the order given for each size.
    modern: list[Rendition] = field(default_factory=list)


def make_thumbnails(
    data: bytes, sizes: Sequence[int], limits: Limits, *, quality: int = 85
) -> list[Rendition]:
    """JPEG renditions whose long edge is each of ``sizes``, largest first, named "<size>".

    A photo smaller than a size keeps its own dimensions for that size: never upscaled.
    Animated images give their first frame.
    """
    return make_thumbnail_set(data, sizes, limits, quality=quality).thumbnails


def make_thumbnail_set(
    data: bytes,
    sizes: Sequence[int],
    limits: Limits,
    *,
    quality: int = 85,
    square: int | None = None,
    modern: Sequence[ModernFormat] = (),
) -> ThumbnailSet:
    """``make_thumbnails``; with ``square`` a square smart crop; each size in ``modern`` formats.

    The square (``square`` x ``square``, JPEG) is cut around the most interesting
    region (``crop.interesting_square``), from the smallest thumbnail that covers it;
    when even the largest thumbnail's short edge is under ``square``, the square has
    that edge. The modern renditions are encoded from the same pixels as the JPEGs.
    """
    validate_quality(quality)
    if square is not None:
        _check_edge(square)
    sized = thumbnail_images(data, sizes, limits)
    renditions: list[Rendition] = []
    modern_renditions: list[Rendition] = []
    for index, (size, image) in enumerate(sized):
        if index and image is sized[index - 1][1]:
            # The photo is smaller than both sizes: same pixels, same bytes.
            renditions.append(replace(renditions[-1], name=str(size)))
            previous = modern_renditions[-len(modern) :] if modern else []
            modern_renditions += [replace(r, name=str(size)) for r in previous]
            continue
        renditions.append(encode_jpeg(image, str(size), quality=quality))
        modern_renditions += [encoder.encode(image, str(size)) for encoder in modern]
    images = [image for _, image in sized]
    cropped = None if square is None else _square(images, square, quality)
    return ThumbnailSet(renditions, cropped, modern_renditions)


def thumbnail_images(
    data: bytes, sizes: Sequence[int], limits: Limits
) -> list[tuple[int, Image.Image]]:
    """Each of ``sizes`` (largest first) with its upright sRGB pixels, from one decode.

    A photo smaller than two sizes gives the same image object for both.
    """
    ordered = _largest_first(sizes)
    decoded = _decode(data, ordered[0], limits, near_miss=True)
    image = decoded.image
    sized: list[tuple[int, Image.Image]] = []
    for index, size in enumerate(ordered):
        target = fitted_size(decoded.upright_size, size)
        if not (sized and image.size == target):
            image = _shrink(image, target, first_step=index == 0)
        sized.append((size, image))
    return sized


def _square(images: Sequence[Image.Image], side: int, quality: int) -> Rendition:
    """The smart square from the smallest of ``images`` (largest first) that covers ``side``."""
    source = next((image for image in reversed(images) if min(image.size) >= side), images[0])
    box = interesting_square(source.size, images[-1])
    cut = source.crop(box)
    side = min(side, cut.width)
    return encode_jpeg(_shrink(cut, (side, side), first_step=False), "square", quality=quality)


def decode_for_size(data: bytes, max_edge: int, limits: Limits) -> Image.Image:
    """Decode for an output whose long edge will be ``max_edge``, as cheaply as possible.

    The result is upright (EXIF orientation applied), RGB, sRGB and carries no
    metadata. Its long edge is at least ``max_edge`` (unless the photo is smaller)
    and JPEGs are decoded at a reduced DCT scale, so it is often smaller than the
    original. ``decode_fitted`` resizes it to the exact size.
    """
    return _decode(data, max_edge, limits).image


def decode_fitted(
    data: bytes, max_edge: int, limits: Limits, *, near_miss: bool = False
) -> Image.Image:
    """``decode_for_size`` resized to a long edge of exactly ``max_edge`` (never enlarged).

    With ``near_miss``, as thumbnails do, the decode may fall a few percent short of
    ``max_edge`` and be enlarged the rest of the way: a JPEG then decodes at half the
    scale.
    """
    decoded = _decode(data, max_edge, limits, near_miss=near_miss)
    return _shrink(decoded.image, fitted_size(decoded.upright_size, max_edge), first_step=True)


def open_for_size(data: bytes, max_edge: int, limits: Limits) -> ImageFile.ImageFile:
    """``open_checked``, with a JPEG's decoder set to the smallest scale that covers ``max_edge``.

    Nothing is decoded yet; ``size`` already reports the reduced decode size.
    """
    _check_edge(max_edge)
    image = open_checked(data, limits)
    _draft(image, max_edge)
    return image


def _decode(data: bytes, max_edge: int, limits: Limits, *, near_miss: bool = False) -> _Decoded:
    """The photo decoded for ``max_edge``; with ``near_miss``, possibly a few percent short."""
    _check_edge(max_edge)
    image = open_checked(data, limits)
    upright = upright_size(image)
    _draft(image, max_edge, near_miss=near_miss)
    with decoding(limits, canonical_format(image)):
        image.load()  # the first frame only, for animated images
        # Only a photo that declares an orientation has its EXIF parsed again: Pillow raises
        # on a malformed block, which here would read as damaged pixels (orientation_of,
        # like every header read, takes a malformed block for none).
        if orientation_of(image) != 1:
            ImageOps.exif_transpose(image, in_place=True)
    flat = _flatten(image)
    profile = _embedded_profile(image.info.get("icc_profile"), flat.mode)
    if profile is not None:
        # Colour conversion costs per pixel: shrink first, convert the few pixels left.
        flat = _shrink(flat, fitted_size(upright, max_edge), first_step=True)
        flat = _to_srgb(flat, profile)
    elif flat.mode != "RGB":
        flat = flat.convert("RGB")
    flat.info = {}
    return _Decoded(flat, upright)


def _draft(image: ImageFile.ImageFile, max_edge: int, *, near_miss: bool = False) -> None:
    if canonical_format(image) == "JPEG" and max(image.size) > max_edge:
        # The fitted (w, h), never a square box: draft keeps a scale only if it covers
        # both dimensions, so a square box would stop a 3:2 photo at a larger scale.
        width, height = fitted_size(image.size, max_edge)
        if near_miss:
            width, height = width - width // _UNDERSHOOT, height - height // _UNDERSHOOT
        image.draft("RGB", (width, height))


def _flatten(image: Image.Image) -> Image.Image:
    """Reduce any mode to RGB, L or CMYK: palettes expanded, alpha on white, 16-bit to 8."""
    try:
        if image.mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        if image.mode in _SIXTEEN_BIT_MODES or image.mode == "F":
            image = _to_eight_bit_grey(image)
        if image.mode in _ALPHA_MODES:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, BACKGROUND)
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        if image.mode in ("RGB", "L", "CMYK"):
            return image
        return image.convert("RGB")
    except ValueError as error:
        raise UnsupportedFormat(f"{image.mode} pixels cannot be converted to RGB") from error


def _to_eight_bit_grey(image: Image.Image) -> Image.Image:
    # Pillow's own conversion clips 16-bit values at 255 (a white image), so scale first,
    # on 32-bit integers: every 16-bit byte order converts to them, while Pillow cannot
    # even measure the range of a big-endian (TIFF "I;16B") image.
    working = image if image.mode in ("I", "F") else image.convert("I")
    _, high = working.getextrema()
    if working.mode == "F" and isinstance(high, float) and high <= 1.0:
        scale = 255.0
    else:
        scale = 1 / 257 if isinstance(high, (int, float)) and high > 255 else 1.0
    return working.point(lambda value: value * scale).convert("L")


def _embedded_profile(icc: object, mode: str) -> ImageCms.ImageCmsProfile | None:
    """The photo's ICC profile, when it is valid, fits ``mode`` and is not sRGB already."""
    if not icc or not isinstance(icc, bytes):
        return None
    try:
        profile = ImageCms.ImageCmsProfile(BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
        colour_space = profile.profile.xcolor_space.strip()
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError, AttributeError):
        return None  # a broken profile: treat the pixels as sRGB, as browsers do
    if colour_space != _PROFILE_SPACES.get(mode) or "srgb" in description.lower():
        return None
    return profile


def _to_srgb(image: Image.Image, profile: ImageCms.ImageCmsProfile) -> Image.Image:
    try:
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image.convert("RGB")  # a profile lcms cannot use: show the pixels as they are
    assert converted is not None  # only None with inPlace=True
    return converted


def _shrink(image: Image.Image, target: tuple[int, int], *, first_step: bool) -> Image.Image:
    if image.size == target:
        return image
    if image.width < target[0] or image.height < target[1]:
        return image.resize(target, _ENLARGE)  # the last few percent of a near-miss decode
    factor = image.width // target[0]
    if factor >= 2 and _reduced_size(image.size, factor) == target:
        # An integer factor gives the target exactly (reduce() rounds up and averages the
        # partial edge block): a box average, far cheaper than any resampling filter.
        return image.reduce(factor)
    if first_step and _near_miss(_reduced_size(image.size, factor + 1), target):
        # The next integer factor lands a few percent short: as a JPEG's DCT scale does.
        return image.reduce(factor + 1).resize(target, _ENLARGE)
    resample = _FIRST_STEP if first_step else _LATER_STEPS
    return image.resize(target, resample, reducing_gap=_REDUCING_GAP)


def _reduced_size(size: tuple[int, int], factor: int) -> tuple[int, int]:
    return -(-size[0] // factor), -(-size[1] // factor)


def _near_miss(size: tuple[int, int], target: tuple[int, int]) -> bool:
    """Whether ``size`` is short of ``target`` by no more than 1/_UNDERSHOOT of each side."""
    return all(
        edge - edge // _UNDERSHOOT <= got <= edge for got, edge in zip(size, target, strict=True)
    )


def _largest_first(sizes: Sequence[int]) -> list[int]:
    if not sizes:
        raise ValueError("at least one thumbnail size is required")
    for size in sizes:
        _check_edge(size)
    return sorted(set(sizes), reverse=True)


def _check_edge(edge: int) -> None:
    if isinstance(edge, bool) or not isinstance(edge, int) or edge <= 0:
        raise ValueError(f"sizes are positive numbers of pixels, got {edge!r}")
