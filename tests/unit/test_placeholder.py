"""BlurHash placeholders, checked against the reference encoder's own output."""

from __future__ import annotations

import pytest
from PIL import Image

from photoflow.imaging import blurhash_of, encode_blurhash, make_thumbnails, summarize_rendition
from tests.photos import GENEROUS, encode

# The expected strings below were printed by the reference implementation's C encoder
# (github.com/woltapp/blurhash, C/encode.c, blurHashForPixels, at commit 0a1f978 of
# 2024-02-01) for the same pixels, built by the same formula in a small C driver.


def gradient() -> Image.Image:
    """8x6 pixels: red rises along x, green along y, blue with their product."""
    image = Image.new("RGB", (8, 6))
    image.putdata(
        [(30 * x + 20, 40 * y + 15, (17 * x * y + 60) % 256) for y in range(6) for x in range(8)]
    )
    return image


@pytest.mark.parametrize(
    ("x_components", "y_components", "expected"),
    [
        (4, 3, "LkG+2O39Wk%0zHNGa_nQeTf5fSfA"),
        (3, 4, "TkG+2O39WkzHNGa_eTf5fS%bOVb1"),
    ],
)
def test_the_hash_is_the_reference_encoders(
    x_components: int, y_components: int, expected: str
) -> None:
    assert encode_blurhash(gradient(), x_components, y_components) == expected


@pytest.mark.parametrize(
    ("x_components", "y_components", "expected"),
    [
        # One component: the size digit, a zero maximum, then the average colour,
        # 0xff0000 in four base-83 digits (29, 18, 70, 45: "TI:j")
        (1, 1, "00TI:j"),
        # The reference's basis, cos(pi * i * x / width), does not sum to zero over a
        # flat image: its AC components are not zero, and it says so at full scale
        (4, 3, "L~TI:j|cfQ|c|c$5fQ$5fQfQfQfQ"),
    ],
)
def test_a_flat_red_image(x_components: int, y_components: int, expected: str) -> None:
    red = Image.new("RGB", (4, 4), (255, 0, 0))

    assert encode_blurhash(red, x_components, y_components) == expected


def test_the_structure_follows_the_component_counts() -> None:
    # 4x3: "L" is (4 - 1) + (3 - 1) * 9 = 21; then 1 + 4 + 2 * 11 more characters
    landscape = blurhash_of(Image.new("RGB", (300, 200), (10, 120, 200)))
    portrait = blurhash_of(Image.new("RGB", (200, 300), (10, 120, 200)))

    assert (landscape[0], len(landscape)) == ("L", 28)
    # 3x4: (3 - 1) + (4 - 1) * 9 = 29, "T"
    assert (portrait[0], len(portrait)) == ("T", 28)


@pytest.mark.parametrize("components", [(0, 3), (4, 10)])
def test_component_counts_are_1_to_9(components: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="components are 1 to 9 each"):
        encode_blurhash(gradient(), *components)


def test_the_smallest_thumbnail_carries_a_placeholder_with_the_photos_average_colour() -> None:
    # A flat mid-grey photo: its average colour, the hash's characters 3-6, is that grey
    grey = encode(Image.new("RGB", (900, 600), (128, 128, 128)), "PNG")
    [thumbnail] = make_thumbnails(grey, [128], GENEROUS)

    placeholder = summarize_rendition(thumbnail.data).blurhash

    # 0x808080 = 8421504 = 14 * 83^3 + 60 * 83^2 + 37 * 83 + 75: "E", "y", "b", "["
    assert placeholder[2:6] == "Eyb["
