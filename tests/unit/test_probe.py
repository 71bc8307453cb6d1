"""Refusals before decoding, and header facts: formats, orientation, frames, caps, bombs."""

from __future__ import annotations

import resource
import time
import warnings
from collections.abc import Callable

import pytest
from PIL import Image, ImageFile

from photoflow.imaging import (
    CorruptImage,
    EmptyPhoto,
    InvalidPhoto,
    Limits,
    PhotoTooLarge,
    TooManyPixels,
    UnsupportedFormat,
    apply_filters,
    errors,
    make_thumbnails,
    probe,
    read_metadata,
)
from tests.photos import (
    GENEROUS,
    decode,
    decompression_bomb_png,
    encode,
    make_photo,
    truncated_jpeg,
)

FIFTY_MP = Limits(max_bytes=64 * 10**6, max_pixels=50 * 10**6)

ENTRY_POINTS: dict[str, Callable[[bytes, Limits], object]] = {
    "probe": probe,
    "read_metadata": read_metadata,
    "make_thumbnails": lambda data, limits: make_thumbnails(data, [1024, 256], limits),
    "apply_filters": lambda data, limits: apply_filters(data, ["sepia"], 1024, limits),
}


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("TIFF", "image/tiff"),
        ("HEIF", "image/heif"),
    ],
)
def test_probe_reads_format_and_size_of_every_accepted_format(fmt: str, content_type: str) -> None:
    header = probe(make_photo(640, 427, fmt=fmt), GENEROUS)

    assert (header.format, header.content_type) == (fmt, content_type)
    assert (header.width, header.height) == (640, 427)
    assert (header.orientation, header.frames) == (1, 1)


@pytest.mark.parametrize(
    ("fmt", "orientation"),
    [
        ("JPEG", 3),
        ("JPEG", 5),
        ("JPEG", 6),
        ("JPEG", 7),
        ("JPEG", 8),
        ("PNG", 6),
        ("WEBP", 8),
        ("TIFF", 6),
        ("HEIF", 8),
    ],
)
def test_probe_reports_the_upright_size_and_the_declared_orientation(
    fmt: str, orientation: int
) -> None:
    # Given a 600x800 portrait stored the way a camera would for this orientation
    data = make_photo(600, 800, fmt=fmt, orientation=orientation)

    header = probe(data, GENEROUS)

    assert (header.width, header.height) == (600, 800)
    assert header.orientation == orientation


def test_probe_counts_the_frames_of_an_animated_gif() -> None:
    header = probe(make_photo(160, 120, fmt="GIF", frames=3), GENEROUS)

    assert (header.format, header.frames, header.width, header.height) == ("GIF", 3, 160, 120)


def test_probe_reports_the_stored_mode() -> None:
    assert probe(make_photo(64, 48, mode="CMYK"), GENEROUS).mode == "CMYK"
    assert probe(make_photo(64, 48, fmt="PNG", mode="I;16"), GENEROUS).mode.startswith("I;16")


def test_header_to_dict_is_plain_data() -> None:
    header = probe(make_photo(64, 48), GENEROUS)

    assert header.to_dict() == {
        "format": "JPEG",
        "content_type": "image/jpeg",
        "width": 64,
        "height": 48,
        "orientation": 1,
        "frames": 1,
        "mode": "RGB",
    }


def test_empty_photo_is_refused() -> None:
    with pytest.raises(EmptyPhoto, match="empty"):
        probe(b"", GENEROUS)


def test_photo_over_the_byte_cap_is_refused_before_being_opened() -> None:
    data = make_photo(640, 480)
    limits = Limits(max_bytes=len(data) - 1, max_pixels=10**8)

    with pytest.raises(PhotoTooLarge) as refused:
        probe(data, limits)

    assert f"({len(data):,} bytes)" in str(refused.value)
    assert "limit" in str(refused.value)


def test_photo_exactly_at_the_byte_cap_is_accepted() -> None:
    data = make_photo(64, 48)

    assert probe(data, Limits(max_bytes=len(data), max_pixels=10**8)).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"hello, this is a text file\n",
            'not an image: it looks like text ("hello, this is a text file"); accepted formats:'
            " JPEG, PNG, WEBP, GIF, TIFF, HEIF",
        ),
        (
            b"\x00\x13\x37\x42 some binary data",
            "not an image in an accepted format (JPEG, PNG, WEBP, GIF, TIFF, HEIF)",
        ),
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            "not an image: it looks like a PDF document; accepted formats: JPEG, PNG, WEBP,",
        ),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "looks like a ZIP archive"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'/>", "looks like an SVG drawing"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "looks like an MP4 or QuickTime video"),
    ],
)
def test_data_that_is_not_an_image_is_refused_with_what_it_looks_like(
    data: bytes, expected: str
) -> None:
    with pytest.raises(UnsupportedFormat) as refused:
        probe(data, GENEROUS)

    assert expected in str(refused.value)


def test_a_real_image_in_a_format_that_is_not_accepted_is_named() -> None:
    # Given a genuine BMP, which Pillow could read but the limits do not accept
    bmp = make_photo(64, 48, fmt="BMP")

    with pytest.raises(UnsupportedFormat) as refused:
        make_thumbnails(bmp, [32], GENEROUS)

    assert str(refused.value) == (
        "BMP images are not accepted; accepted formats: JPEG, PNG, WEBP, GIF, TIFF, HEIF"
    )


def test_formats_can_be_narrowed_by_configuration() -> None:
    jpeg_only = Limits(max_bytes=10**7, max_pixels=10**8, formats=("JPEG",))

    with pytest.raises(UnsupportedFormat, match=r"^HEIF images are not accepted"):
        probe(make_photo(64, 48, fmt="HEIF"), jpeg_only)
    assert probe(make_photo(64, 48), jpeg_only).format == "JPEG"


def test_a_header_that_starts_like_an_accepted_format_but_breaks_is_corrupt() -> None:
    with pytest.raises(CorruptImage, match="PNG"):
        probe(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, GENEROUS)


def test_a_jpeg_cut_inside_its_header_is_corrupt() -> None:
    with pytest.raises(CorruptImage):
        probe(make_photo(640, 480)[:200], GENEROUS)


def test_pixel_cap_names_the_dimensions() -> None:
    # Given a real 3000x2000 (6 MP) photo and a 5 MP cap, below Pillow's own bomb threshold
    data = make_photo(3000, 2000, quality=60)

    with pytest.raises(TooManyPixels) as refused:
        probe(data, Limits(max_bytes=10**8, max_pixels=5 * 10**6))

    assert str(refused.value) == "image is 3000x2000 = 6.0 MP, over the 5.0 MP limit"


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("size", [(50_000, 50_000), (10_000, 10_000)])
def test_decompression_bombs_are_refused_from_the_header_without_allocating(
    entry_point: str, size: tuple[int, int]
) -> None:
    # Given a ~1 KB PNG declaring 2500 MP or 100 MP, and a 50 MP cap
    bomb = decompression_bomb_png(*size)
    assert len(bomb) < 4096
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()

    with pytest.raises(TooManyPixels) as refused:
        ENTRY_POINTS[entry_point](bomb, FIFTY_MP)

    # Then it was refused from the header: decoding 100 MP takes seconds and 300 MB
    assert time.perf_counter() - started < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 64 * 1024
    message = str(refused.value)
    pixels = f"{size[0] * size[1] / 10**6:.1f} MP"
    assert message.startswith("image is ") and pixels in message
    assert message.endswith("over the 50.0 MP limit")


def test_pillow_bomb_threshold_refuses_even_under_a_larger_configured_cap() -> None:
    # Given a cap above Pillow's decompression-bomb warning threshold (about 89.5 MP)
    roomy = Limits(max_bytes=10**8, max_pixels=150 * 10**6)
    pillow_limit = Image.MAX_IMAGE_PIXELS
    assert pillow_limit is not None and pillow_limit < 100 * 10**6

    with pytest.raises(TooManyPixels) as refused:
        probe(decompression_bomb_png(10_000, 10_000), roomy)

    assert str(refused.value) == (
        f"image is 100.0 MP, over the {pillow_limit / 10**6:.1f} MP limit"
    )


def test_bomb_handling_leaves_process_wide_state_as_it_was() -> None:
    filters_before = list(warnings.filters)
    threshold_before = Image.MAX_IMAGE_PIXELS

    with pytest.raises(TooManyPixels):
        make_thumbnails(decompression_bomb_png(10_000, 10_000), [256], FIFTY_MP)

    assert warnings.filters == filters_before
    assert threshold_before == Image.MAX_IMAGE_PIXELS


def test_a_truncated_jpeg_passes_the_header_checks_but_cannot_be_decoded() -> None:
    data = truncated_jpeg()

    # The header is intact: probing (no decode) succeeds...
    assert probe(data, GENEROUS).format == "JPEG"
    # ...and decoding it fails as corrupt, rather than producing a grey thumbnail
    with pytest.raises(CorruptImage, match="JPEG image data is damaged or incomplete"):
        make_thumbnails(data, [256], GENEROUS)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's note on the cut TIFF
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "HEIF"])
def test_photos_cut_in_half_are_corrupt_whatever_the_format(fmt: str) -> None:
    whole = make_photo(320, 240, fmt=fmt)

    with pytest.raises(CorruptImage):
        make_thumbnails(whole[: len(whole) // 2], [128], GENEROUS)


def test_decoding_refuses_to_run_with_pillows_truncated_images_switch_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        make_thumbnails(truncated_jpeg(), [256], GENEROUS)


def test_every_refusal_is_a_permanent_invalid_photo_with_a_stable_name() -> None:
    # The state machine's Catch/Retry rules match these names: renaming one breaks the workflow
    refusals = [
        errors.EmptyPhoto,
        errors.PhotoTooLarge,
        errors.TooManyPixels,
        errors.UnsupportedFormat,
        errors.CorruptImage,
    ]

    assert [cls.__name__ for cls in refusals] == [
        "EmptyPhoto",
        "PhotoTooLarge",
        "TooManyPixels",
        "UnsupportedFormat",
        "CorruptImage",
    ]
    assert all(issubclass(cls, InvalidPhoto) for cls in refusals)
    assert InvalidPhoto.__name__ == "InvalidPhoto"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_bytes": 0, "max_pixels": 1}, "max_bytes"),
        ({"max_bytes": 1, "max_pixels": -5}, "max_pixels"),
        ({"max_bytes": 1, "max_pixels": 1, "formats": ()}, "at least one"),
        ({"max_bytes": 1, "max_pixels": 1, "formats": ("jpeg",)}, "upper-case"),
    ],
)
def test_limits_refuse_nonsense(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Limits(**arguments)


def test_default_formats_are_the_accepted_photo_formats() -> None:
    assert Limits(max_bytes=1, max_pixels=1).formats == (
        "JPEG",
        "PNG",
        "WEBP",
        "GIF",
        "TIFF",
        "HEIF",
    )


def test_a_multi_picture_jpeg_is_a_jpeg() -> None:
    # Given a JPEG with an MPF second picture, as phones write (Pillow calls it MPO)
    first = decode(make_photo(320, 240))
    second = decode(make_photo(160, 120, seed=1))
    mpo = encode(first, "MPO", save_all=True, append_images=[second])

    header = probe(mpo, Limits(max_bytes=10**7, max_pixels=10**8, formats=("JPEG",)))

    assert (header.format, header.content_type, header.width) == ("JPEG", "image/jpeg", 320)
    assert len(make_thumbnails(mpo, [100], GENEROUS)) == 1
