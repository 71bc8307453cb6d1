"""Smart crops: a square cut around the most interesting part of a photo.

The measure of interest is libvips' ``entropy`` smartcrop (``vips_smartcrop``,
``VIPS_INTERESTING_ENTROPY``), as imgproxy and Thumbor's peers use it: while the
image is wider (taller) than the crop, compare a slice at each end and cut away the
one whose grey-level histogram has the lower entropy, that is the plainer one. A
sky, a wall or an out-of-focus background goes; the textured subject stays.

The slices are compared on a small grey copy: a crop box does not need more than a
few hundred pixels to be placed, and the box is scaled back to the image it cuts.
"""

from __future__ import annotations

from PIL import Image

# Entropy is judged on a grey copy whose short edge is this long (or the image's own).
_PROXY_SHORT_EDGE = 96
# Each round cuts at most this share of what must go, as libvips does (an eighth), so a
# small subject near one end is not lost to a single big cut.
_SLICES = 8


def interesting_square(size: tuple[int, int], proxy: Image.Image) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) of the most interesting square of an image of ``size``.

    ``proxy`` is the same picture at any smaller (or equal) size, the smaller the cheaper;
    the square's side is the image's short edge.
    """
    width, height = size
    side = min(width, height)
    grey = proxy.convert("L")
    short = min(grey.size)
    if short > _PROXY_SHORT_EDGE:
        scale = _PROXY_SHORT_EDGE / short
        grey = grey.resize(
            (max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
            Image.Resampling.BOX,
        )
    proxy_side = min(grey.size)
    left, top = _plainest_ends_cut(grey, (proxy_side, proxy_side))
    # Back to the image's own pixels; the square keeps its full side and stays inside.
    x = min(width - side, round(left * width / grey.width))
    y = min(height - side, round(top * height / grey.height))
    return x, y, x + side, y + side


def _plainest_ends_cut(grey: Image.Image, target: tuple[int, int]) -> tuple[int, int]:
    """libvips' entropy smartcrop: the top-left corner of the ``target`` box it keeps."""
    left, top = 0, 0
    width, height = grey.size
    while width > target[0]:
        cut = min(width - target[0], max(1, -(-(grey.width - target[0]) // _SLICES)))
        start = grey.crop((left, top, left + cut, top + height)).entropy()
        end = grey.crop((left + width - cut, top, left + width, top + height)).entropy()
        if start < end:
            left += cut
        width -= cut
    while height > target[1]:
        cut = min(height - target[1], max(1, -(-(grey.height - target[1]) // _SLICES)))
        start = grey.crop((left, top, left + width, top + cut)).entropy()
        end = grey.crop((left, top + height - cut, left + width, top + height)).entropy()
        if start < end:
            top += cut
        height -= cut
    return left, top
