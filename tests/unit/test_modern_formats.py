"""WebP and AVIF renditions of each thumbnail size, and their configuration."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image, features

from photoflow.config import ThumbnailConfig
from photoflow.imaging import ModernFormat, make_thumbnail_set
from tests.photos import GENEROUS, decode, encode, make_photo, render_scene

WEBP = ModernFormat("webp", 80, 2)
AVIF = ModernFormat("avif", 60, 8)
ENVIRONMENT = {
    "THUMBNAIL_SIZES": "512,128",
    "FILTERS": "sepia",
    "FILTER_MAX_EDGE": "512",
    "MAX_PHOTO_BYTES": "10000000",
    "MAX_PIXELS": "10000000",
    "JPEG_QUALITY": "85",
    "SQUARE_THUMBNAIL_SIZE": "0",
    "MODERN_FORMATS": "avif,webp",
    "WEBP_QUALITY": "75",
    "WEBP_METHOD": "3",
    "AVIF_QUALITY": "55",
    "AVIF_SPEED": "9",
}


def test_this_pillow_encodes_avif() -> None:
    # Pillow's wheels carry libavif; a build without it would make no AVIF renditions
    assert features.check("avif")


def test_each_size_comes_in_each_format_from_the_same_pixels() -> None:
    data = make_photo(1200, 800, seed=7)

    made = make_thumbnail_set(data, [128, 600], GENEROUS, modern=[WEBP, AVIF])

    assert [(r.name, r.content_type, r.width, r.height) for r in made.modern] == [
        ("600", "image/webp", 600, 400),
        ("600", "image/avif", 600, 400),
        ("128", "image/webp", 128, 85),
        ("128", "image/avif", 128, 85),
    ]
    for rendition in made.modern:
        output = decode(rendition.data)
        assert (output.format, output.size) == (
            rendition.content_type.split("/")[1].upper(),
            (rendition.width, rendition.height),
        )
    # Same pixels as the JPEG of that size, within what each lossy encoder changes
    jpeg = decode(made.thumbnails[0].data).convert("RGB")
    for rendition in made.modern[:2]:
        assert mean_difference(decode(rendition.data).convert("RGB"), jpeg) < 6


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    pairs = zip(a.tobytes(), b.tobytes(), strict=True)
    return sum(abs(x - y) for x, y in pairs) / (a.width * a.height * 3)


def test_a_photo_smaller_than_two_sizes_repeats_its_renditions_under_both_names() -> None:
    data = encode(render_scene(100, 80, seed=8), "PNG")

    made = make_thumbnail_set(data, [400, 200], GENEROUS, modern=[WEBP])

    assert [(r.name, r.width) for r in made.modern] == [("400", 100), ("200", 100)]
    assert made.modern[0].data == made.modern[1].data


def test_no_modern_formats_unless_asked() -> None:
    assert make_thumbnail_set(make_photo(300, 200), [100], GENEROUS).modern == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"name": "heic", "quality": 50, "effort": 1}, "modern formats are webp, avif, got 'heic'"),
        ({"name": "webp", "quality": 0, "effort": 1}, "webp quality must be between 1 and 100"),
        ({"name": "webp", "quality": 80, "effort": 7}, "webp effort must be between 0 and 6"),
        ({"name": "avif", "quality": 60, "effort": 11}, "avif effort must be between 0 and 10"),
    ],
)
def test_encoder_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModernFormat(**settings)


def test_the_configuration_gives_each_format_its_settings_in_order() -> None:
    config = ThumbnailConfig.model_validate(ENVIRONMENT)

    assert config.modern == (ModernFormat("avif", 55, 9), ModernFormat("webp", 75, 3))


def test_no_modern_formats_is_an_empty_list() -> None:
    config = ThumbnailConfig.model_validate({**ENVIRONMENT, "MODERN_FORMATS": ""})

    assert config.modern == ()


@pytest.mark.parametrize(
    ("formats", "message"),
    [("webp,jxl", "MODERN_FORMATS may name webp, avif, got jxl"), ("webp,webp", "twice")],
)
def test_unknown_or_repeated_formats_are_refused(formats: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ThumbnailConfig.model_validate({**ENVIRONMENT, "MODERN_FORMATS": formats})
