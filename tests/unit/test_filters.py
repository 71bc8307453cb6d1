"""Filters: one decode, every filter on it, names checked before any work."""

from __future__ import annotations

import pytest
from PIL import Image, ImageFilter, ImageStat

from photoflow.imaging import (
    FILTERS,
    CorruptImage,
    apply_filters,
    make_thumbnails,
    validate_filter_names,
)
from tests.photos import (
    GENEROUS,
    decode,
    make_photo,
    patch_colour,
    render_scene,
    truncated_jpeg,
)


def edge_energy(image: Image.Image) -> float:
    """Mean strength of the edges: high for sharp images, low for soft ones."""
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


def sample_pixels(image: Image.Image, step: int = 17) -> list[tuple[int, int, int]]:
    rgb = image.convert("RGB")
    return [
        rgb.getpixel((x, y)) for y in range(0, rgb.height, step) for x in range(0, rgb.width, step)
    ]


@pytest.fixture(scope="module")
def photo() -> bytes:
    return make_photo(1200, 800, quality=92, seed=3)


@pytest.fixture(scope="module")
def unfiltered(photo: bytes) -> Image.Image:
    return decode(make_thumbnails(photo, [600], GENEROUS)[0].data)


def test_every_filter_gives_a_named_fitted_jpeg_in_the_order_asked(photo: bytes) -> None:
    names = ["sharpen", "grayscale", "blur", "sepia"]

    renditions = apply_filters(photo, names, 600, GENEROUS)

    assert [r.name for r in renditions] == names
    for rendition in renditions:
        assert (rendition.width, rendition.height, rendition.content_type) == (
            600,
            400,
            "image/jpeg",
        )
        output = decode(rendition.data)
        mode = "L" if rendition.name == "grayscale" else "RGB"  # a greyscale JPEG
        assert (output.format, output.mode, output.size) == ("JPEG", mode, (600, 400))


def test_grayscale_has_no_colour_left(photo: bytes, unfiltered: Image.Image) -> None:
    output = decode(apply_filters(photo, ["grayscale"], 600, GENEROUS)[0].data)

    assert all(max(p) - min(p) <= 3 for p in sample_pixels(output))
    assert any(max(p) - min(p) > 30 for p in sample_pixels(unfiltered))


def test_sepia_is_warm_brown(photo: bytes) -> None:
    output = decode(apply_filters(photo, ["sepia"], 600, GENEROUS)[0].data)

    pixels = [p for p in sample_pixels(output) if max(p) < 250]  # clipped highlights are white
    assert pixels
    assert all(r + 4 >= g and g + 4 >= b for r, g, b in pixels)
    assert sum(r - b for r, _, b in pixels) / len(pixels) > 20


def test_blur_softens_and_sharpen_crispens(photo: bytes, unfiltered: Image.Image) -> None:
    blurred, sharpened = apply_filters(photo, ["blur", "sharpen"], 600, GENEROUS)

    reference = edge_energy(unfiltered)
    assert edge_energy(decode(blurred.data)) < 0.6 * reference
    assert edge_energy(decode(sharpened.data)) > 1.1 * reference


def test_blur_strength_follows_the_output_size() -> None:
    # Given the same photo filtered at two sizes, the blur should look the same when both
    # are viewed at the same size (its radius scales with the image)
    data = make_photo(1600, 1200, seed=5)
    large = decode(apply_filters(data, ["blur"], 1600, GENEROUS)[0].data)
    small = decode(apply_filters(data, ["blur"], 400, GENEROUS)[0].data)

    shrunk = large.resize(small.size, Image.Resampling.LANCZOS)
    assert abs(edge_energy(shrunk) - edge_energy(small)) < 0.2 * edge_energy(small)


def test_filters_apply_to_the_upright_photo() -> None:
    data = make_photo(600, 800, orientation=8)

    sepia = apply_filters(data, ["sepia"], 400, GENEROUS)[0]

    assert (sepia.width, sepia.height) == (300, 400)
    # The top-left marker is pure red, which the sepia matrix turns into (100, 89, 69)
    corner = patch_colour(decode(sepia.data), (3, 3, 20, 20))
    assert all(
        abs(actual - expected) <= 12 for actual, expected in zip(corner, (100, 89, 69), strict=True)
    )


def test_unknown_filter_names_are_refused_before_the_photo_is_read() -> None:
    # Given an empty body: reading it would raise EmptyPhoto, so a ValueError proves the
    # names were checked first
    with pytest.raises(ValueError) as refused:
        apply_filters(b"", ["sepia", "vintage", "glow"], 600, GENEROUS)

    assert str(refused.value) == (
        "unknown filter(s) 'vintage', 'glow'; known filters: blur, grayscale, sepia, sharpen"
    )


def test_validate_filter_names_accepts_known_names_in_order() -> None:
    assert validate_filter_names(["sepia", "blur"]) == ("sepia", "blur")
    assert validate_filter_names(()) == ()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["sepia", "sepia"], "more than once: sepia"),
        ("sepia", "not the string 'sepia'"),
        (["Sepia"], "unknown filter"),
    ],
)
def test_validate_filter_names_refuses_configuration_mistakes(
    names: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        validate_filter_names(names)


def test_no_filters_means_no_work() -> None:
    assert apply_filters(b"not even looked at", [], 600, GENEROUS) == []


def test_filters_are_read_only_and_at_least_the_four_documented() -> None:
    assert {"grayscale", "sepia", "blur", "sharpen"} <= set(FILTERS)
    with pytest.raises(TypeError):
        FILTERS["negative"] = lambda image: image


def test_filters_refuse_a_truncated_photo() -> None:
    with pytest.raises(CorruptImage):
        apply_filters(truncated_jpeg(), ["blur"], 600, GENEROUS)


# --- each filter's recipe, pixel for pixel -------------------------------------------------


@pytest.mark.parametrize(
    ("colour", "sepia"),
    [
        # R' = .393R + .769G + .189B, G' = .349R + .686G + .168B, B' = .272R + .534G + .131B
        ((200, 100, 50), (165, 147, 114)),
        ((10, 20, 30), (25, 22, 17)),
        ((0, 0, 0), (0, 0, 0)),  # no offset: black stays black
        ((255, 255, 255), (255, 255, 239)),  # clipped where the sums pass 255
    ],
)
def test_sepia_is_the_classic_tone_matrix(
    colour: tuple[int, int, int], sepia: tuple[int, int, int]
) -> None:
    assert FILTERS["sepia"](Image.new("RGB", (4, 4), colour)).getpixel((0, 0)) == sepia


def test_grayscale_is_itu_r_601_luma() -> None:
    # L = .299R + .587G + .114B, one channel
    output = FILTERS["grayscale"](Image.new("RGB", (4, 4), (200, 100, 50)))

    assert (output.mode, output.getpixel((0, 0))) == ("L", 124)


@pytest.mark.parametrize(
    ("size", "blur_radius"),
    [
        ((2000, 120), 8.0),  # the radius scales with the long edge...
        ((500, 300), 2.0),
        ((100, 80), 1.0),  # ...and never goes under one pixel
    ],
)
def test_the_blur_radius_follows_the_long_edge(size: tuple[int, int], blur_radius: float) -> None:
    image = render_scene(*size, seed=6)

    blurred = FILTERS["blur"](image)

    # A Gaussian on the image box-reduced by its radius's whole part, enlarged back
    factor = int(blur_radius)
    if factor >= 2:
        small = image.reduce(factor).filter(ImageFilter.GaussianBlur(blur_radius / factor))
        expected = small.resize(image.size, Image.Resampling.BILINEAR)
    else:
        expected = image.filter(ImageFilter.GaussianBlur(blur_radius))
    assert blurred.tobytes() == expected.tobytes()


def test_sharpen_overshoots_both_sides_of_an_edge_and_leaves_flat_areas() -> None:
    # Given a grey step from 100 to 150 in the middle of a 16x8 image
    image = Image.new("RGB", (16, 8), (100, 100, 100))
    image.paste((150, 150, 150), (8, 0, 16, 8))

    sharpened = FILTERS["sharpen"](image)

    # Then the pixels either side of the step move apart by 80% of a quarter of the step
    # (one of the four neighbours is across it): 100 - 0.8 * 12.5 = 90, 150 + 10 = 160;
    # everything else, the edges of the image included, stays as it was
    row = [sharpened.getpixel((x, 4))[0] for x in range(16)]
    assert row == [100] * 7 + [90, 160] + [150] * 7
    assert sharpened.getpixel((7, 0)) == (90, 90, 90)


def test_filters_are_encoded_at_quality_85_unless_told_otherwise(photo: bytes) -> None:
    default = apply_filters(photo, ["sepia"], 300, GENEROUS)[0]

    assert default.data == apply_filters(photo, ["sepia"], 300, GENEROUS, quality=85)[0].data
    assert default.data != apply_filters(photo, ["sepia"], 300, GENEROUS, quality=86)[0].data


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["sepia", "blur", "sepia", "blur"], "filter(s) listed more than once: blur, sepia"),
        ("sepia", "filter names must be a list of names, not the string 'sepia'"),
        (["Sepia"], "unknown filter(s) 'Sepia'; known filters: blur, grayscale, sepia, sharpen"),
    ],
)
def test_configuration_mistakes_are_named_exactly(names: list[str], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        validate_filter_names(names)

    assert str(refused.value) == message
