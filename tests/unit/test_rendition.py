"""The one JPEG encoder every derivative goes through, and its quality range."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import Image

from photoflow.imaging.rendition import Rendition, encode_jpeg, validate_quality
from tests.photos import decode, encode, render_scene


def test_a_rendition_is_a_plain_baseline_jpeg_of_the_pixels() -> None:
    image = render_scene(120, 80, seed=2)

    rendition = encode_jpeg(image, "120", quality=70)

    # Byte for byte what Pillow writes with no options besides the quality: baseline,
    # standard Huffman tables, no EXIF, no comment
    assert rendition == Rendition(
        name="120",
        width=120,
        height=80,
        content_type="image/jpeg",
        data=encode(image, "JPEG", quality=70),
    )


def test_a_source_photos_comment_is_not_carried_over() -> None:
    image = render_scene(64, 48)
    image.info["comment"] = b"my address"

    rendition = encode_jpeg(image, "64", quality=85)

    assert b"my address" not in rendition.data
    assert rendition.data == encode(render_scene(64, 48), "JPEG", quality=85)


def test_only_rgb_or_grey_pixels_are_encoded() -> None:
    with pytest.raises(ValueError) as refused:
        encode_jpeg(Image.new("RGBA", (8, 8)), "8", quality=85)

    assert str(refused.value) == "renditions are encoded from RGB or L images, got mode RGBA"
    grey = encode_jpeg(Image.new("L", (8, 8), 128), "8", quality=85)
    assert decode(grey.data).mode == "L"


@pytest.mark.parametrize("quality", [1, 95])
def test_quality_from_1_to_95_is_accepted(quality: int) -> None:
    validate_quality(quality)
    assert encode_jpeg(Image.new("RGB", (8, 8)), "8", quality=quality).width == 8


@pytest.mark.parametrize("quality", [0, 96])
def test_quality_outside_1_to_95_is_refused(quality: int) -> None:
    with pytest.raises(ValueError) as refused:
        validate_quality(quality)

    assert str(refused.value) == f"JPEG quality must be between 1 and 95, got {quality}"


def test_a_renditions_repr_leaves_its_bytes_out() -> None:
    # Renditions end up in log lines and assertion messages: the name and size are enough
    rendition = encode_jpeg(Image.new("RGB", (8, 8)), "8", quality=85)

    assert repr(rendition) == "Rendition(name='8', width=8, height=8, content_type='image/jpeg')"


def test_a_rendition_cannot_be_changed_once_made() -> None:
    rendition = encode_jpeg(Image.new("RGB", (8, 8)), "8", quality=85)

    with pytest.raises(dataclasses.FrozenInstanceError):
        rendition.name = "16"  # type: ignore[misc]
