"""Named photo filters, all applied to one decode of the photo.

Filter names come from configuration; ``validate_filter_names`` lets a caller
reject a bad list once at start-up rather than on every photo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from PIL import Image, ImageChops, ImageFilter, ImageOps

from photoflow.imaging.limits import Limits
from photoflow.imaging.rendition import Rendition, encode_jpeg, validate_quality
from photoflow.imaging.thumbnails import decode_fitted

# The classic sepia tone matrix (rows give R, G, B from the source's R, G, B, offset).
_SEPIA = (
    0.393, 0.769, 0.189, 0.0,
    0.349, 0.686, 0.168, 0.0,
    0.272, 0.534, 0.131, 0.0,
)  # fmt: skip


# 80% rather than UnsharpMask's 120%: UnsharpMask's threshold (3) spares the grain, this
# mask does not, so the smaller amount gives the edges the same strength overall.
_SHARPEN_AMOUNT = 0.8


def _grayscale(image: Image.Image) -> Image.Image:
    # One channel, encoded as a greyscale JPEG: a third of the encoding and no colour to
    # convert back; every browser shows it.
    return ImageOps.grayscale(image)


def _sepia(image: Image.Image) -> Image.Image:
    return image.convert("RGB", _SEPIA)


def _blur(image: Image.Image) -> Image.Image:
    # Scaled to the image so that every output size looks equally soft. A Gaussian of
    # radius r on the image is, to the eye and within 50 dB PSNR (before encoding), a
    # Gaussian of radius r/k on the image box-reduced by k and enlarged back: a blurred
    # image has nothing fine left to lose. At 1024 px that is 15 ms instead of 43 ms.
    radius = max(1.0, max(image.size) / 250)
    factor = int(radius)
    if factor < 2:
        return image.filter(ImageFilter.GaussianBlur(radius=radius))
    small = image.reduce(factor).filter(ImageFilter.GaussianBlur(radius=radius / factor))
    return small.resize(image.size, Image.Resampling.BILINEAR)


def _sharpen(image: Image.Image) -> Image.Image:
    # An unsharp mask: the image pushed away from a blurred copy of itself. The blurred
    # copy is the mean of each pixel's four neighbours (a shift and a blend per
    # direction, the edges repeated): 11 ms at 1024 px, where Pillow's UnsharpMask (a
    # three-pass Gaussian) takes 44 ms and a box-halved copy enlarged back 15 ms. blend()
    # extrapolates past 1, clipping at 0 and 255, which is the mask's arithmetic.
    if min(image.size) < 3:
        return image.copy()
    across = Image.blend(_shifted(image, 1, 0), _shifted(image, -1, 0), 0.5)
    down = Image.blend(_shifted(image, 0, 1), _shifted(image, 0, -1), 0.5)
    return Image.blend(Image.blend(across, down, 0.5), image, 1 + _SHARPEN_AMOUNT)


def _shifted(image: Image.Image, dx: int, dy: int) -> Image.Image:
    """The image moved by one pixel, the row or column uncovered repeating the edge."""
    moved = ImageChops.offset(image, dx, dy)  # wraps around: the far edge comes in
    width, height = image.size
    if dx:
        column = 0 if dx > 0 else width - 1
        moved.paste(image.crop((column, 0, column + 1, height)), (column, 0))
    if dy:
        row = 0 if dy > 0 else height - 1
        moved.paste(image.crop((0, row, width, row + 1)), (0, row))
    return moved


FILTERS: Mapping[str, Callable[[Image.Image], Image.Image]] = MappingProxyType(
    {
        "grayscale": _grayscale,
        "sepia": _sepia,
        "blur": _blur,
        "sharpen": _sharpen,
    }
)


def validate_filter_names(names: Sequence[str]) -> tuple[str, ...]:
    """The names as a tuple, or ValueError naming the unknown ones and the known ones."""
    if isinstance(names, str):
        raise ValueError(f"filter names must be a list of names, not the string {names!r}")
    unknown = [name for name in names if name not in FILTERS]
    if unknown:
        raise ValueError(
            f"unknown filter(s) {', '.join(map(repr, unknown))}; "
            f"known filters: {', '.join(sorted(FILTERS))}"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"filter(s) listed more than once: {', '.join(repeated)}")
    return tuple(names)


def apply_filters(
    data: bytes, names: Sequence[str], max_edge: int, limits: Limits, *, quality: int = 85
) -> list[Rendition]:
    """One JPEG per filter, in the order given, each named after its filter.

    The photo is decoded once, fitted to ``max_edge`` (never enlarged), and every
    filter starts from that same image.
    """
    chosen = validate_filter_names(names)
    validate_quality(quality)
    if not chosen:
        return []
    image = decode_fitted(data, max_edge, limits, near_miss=True)
    return [encode_jpeg(FILTERS[name](image), name, quality=quality) for name in chosen]
