"""BlurHash placeholders: a photo's blurred likeness in 20-30 characters.

A page paints the string (decoded by a few lines of script, or by the published
decoders) while the thumbnail loads. The algorithm is BlurHash's as published by
Wolt (https://github.com/woltapp/blurhash, Algorithm.md, MIT licence): the first few
components of a cosine transform of the image in linear RGB, the average colour kept
exactly in sRGB, the others quantised, all written in a base-83 alphabet. This is a
plain-Python rendering of its C encoder (C/encode.c), checked against that encoder's
output in the tests.

The transform costs width x height x components: the image is first box-shrunk to
``_INPUT_EDGE`` pixels, far more than the few components can show.
"""

from __future__ import annotations

import math
from functools import cache

from PIL import Image

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
_INPUT_EDGE = 20  # 20x15 pixels: 1 ms; the 12 components cannot show more
# Four components along the long edge and three across: the reference's own default.
_LONG_COMPONENTS, _SHORT_COMPONENTS = 4, 3
_MAX_COMPONENTS = 9


def blurhash_of(image: Image.Image) -> str:
    """The BlurHash of an upright image (best: the smallest derivative), 4x3 or 3x4 components."""
    small = image.convert("RGB")
    if max(small.size) > _INPUT_EDGE:
        small = small.copy()
        small.thumbnail((_INPUT_EDGE, _INPUT_EDGE), Image.Resampling.BOX)
    landscape = small.width >= small.height
    x_components = _LONG_COMPONENTS if landscape else _SHORT_COMPONENTS
    y_components = _SHORT_COMPONENTS if landscape else _LONG_COMPONENTS
    return encode_blurhash(small, x_components, y_components)


def encode_blurhash(image: Image.Image, x_components: int, y_components: int) -> str:
    """BlurHash of every pixel of an RGB image, as the reference encoder computes it."""
    if not (1 <= x_components <= _MAX_COMPONENTS and 1 <= y_components <= _MAX_COMPONENTS):
        raise ValueError(f"components are 1 to 9 each, got {x_components}x{y_components}")
    if image.mode != "RGB":
        raise ValueError(f"BlurHash is computed on RGB pixels, got mode {image.mode}")
    factors = _factors(image, x_components, y_components)
    dc, ac = factors[0], factors[1:]
    parts = [_base83((x_components - 1) + (y_components - 1) * 9, 1)]
    if ac:
        largest = max(abs(value) for factor in ac for value in factor)
        quantised = int(max(0, min(82, math.floor(largest * 166 - 0.5))))
        maximum = (quantised + 1) / 166
        parts.append(_base83(quantised, 1))
    else:
        maximum = 1.0
        parts.append(_base83(0, 1))
    red, green, blue = (_linear_to_srgb(value) for value in dc)
    parts.append(_base83((red << 16) + (green << 8) + blue, 4))
    parts += [_base83(_quantised_ac(factor, maximum), 2) for factor in ac]
    return "".join(parts)


def _factors(
    image: Image.Image, x_components: int, y_components: int
) -> list[tuple[float, float, float]]:
    """The transform's components, increasing x first, then y; each (r, g, b) in linear light."""
    width, height = image.size
    linear = _srgb_to_linear_table()
    data = image.tobytes()
    x_cosines = [
        [math.cos(math.pi * i * x / width) for x in range(width)] for i in range(x_components)
    ]
    # Separable: sum each row against every x basis first, then the rows against each y basis.
    row_sums = []  # [y][i] -> (r, g, b)
    for y in range(height):
        row = data[3 * width * y : 3 * width * (y + 1)]
        reds = [linear[value] for value in row[0::3]]
        greens = [linear[value] for value in row[1::3]]
        blues = [linear[value] for value in row[2::3]]
        row_sums.append(
            [
                (
                    math.fsum(c * v for c, v in zip(cosines, reds, strict=True)),
                    math.fsum(c * v for c, v in zip(cosines, greens, strict=True)),
                    math.fsum(c * v for c, v in zip(cosines, blues, strict=True)),
                )
                for cosines in x_cosines
            ]
        )
    factors = []
    for j in range(y_components):
        y_cosines = [math.cos(math.pi * j * y / height) for y in range(height)]
        for i in range(x_components):
            scale = (1 if i == 0 and j == 0 else 2) / (width * height)
            factors.append(
                tuple(
                    scale * math.fsum(c * row_sums[y][i][channel] for y, c in enumerate(y_cosines))
                    for channel in range(3)
                )
            )
    return factors  # type: ignore[return-value]


def _quantised_ac(factor: tuple[float, float, float], maximum: float) -> int:
    red, green, blue = (
        int(max(0, min(18, math.floor(_sign_pow(value / maximum, 0.5) * 9 + 9.5))))
        for value in factor
    )
    return red * 19 * 19 + green * 19 + blue


@cache
def _srgb_to_linear_table() -> tuple[float, ...]:
    return tuple(
        value / 255 / 12.92 if value / 255 <= 0.04045 else ((value / 255 + 0.055) / 1.055) ** 2.4
        for value in range(256)
    )


def _linear_to_srgb(value: float) -> int:
    v = max(0.0, min(1.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _sign_pow(value: float, exponent: float) -> float:
    return math.copysign(abs(value) ** exponent, value)


def _base83(value: int, length: int) -> str:
    return "".join(_ALPHABET[(value // 83**power) % 83] for power in range(length - 1, -1, -1))
