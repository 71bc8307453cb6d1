"""Refusals before decoding, and header facts: formats, orientation, frames, caps, bombs."""

from __future__ import annotations

import dataclasses
import mmap
import os
import struct
import subprocess
import sys
import time
import warnings
import zlib
from collections.abc import Callable

import pytest
from PIL import ExifTags, Image, ImageFile

from photoflow.imaging import (
    CONTENT_TYPES,
    CorruptImage,
    EmptyPhoto,
    InvalidPhoto,
    Limits,
    PhotoHeader,
    PhotoMetadata,
    PhotoTooLarge,
    TooManyPixels,
    UnsupportedFormat,
    apply_filters,
    make_thumbnails,
    probe,
    read_metadata,
)
from photoflow.imaging.probe import decoding
from tests.photos import (
    GENEROUS,
    decode,
    decompression_bomb_png,
    encode,
    make_photo,
    truncated_jpeg,
)
from tests.support import ROOT

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


def photo_with_exif(fmt: str, exif: bytes, size: tuple[int, int] = (60, 40)) -> bytes:
    """A plain red photo whose EXIF block is exactly ``exif`` (Pillow writes what it is given)."""
    return encode(Image.new("RGB", size, (200, 10, 10)), fmt, exif=exif)


def orientation_exif(value: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = value
    return exif.tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_an_orientation_outside_1_to_8_is_no_orientation(fmt: str, orientation: int) -> None:
    # Given a landscape photo declaring an orientation EXIF does not define
    data = photo_with_exif(fmt, orientation_exif(orientation))

    header = probe(data, GENEROUS)

    # Then it is reported, sized and thumbnailed as it is stored
    assert (header.orientation, header.width, header.height) == (1, 60, 40)
    [thumbnail] = make_thumbnails(data, [30], GENEROUS)
    assert (thumbnail.width, thumbnail.height) == (30, 20)


def with_chunk_before_end(png: bytes, kind: bytes, payload: bytes) -> bytes:
    """``png`` with one more chunk just before IEND (after the pixel data)."""
    chunk = struct.pack(">I", len(payload)) + kind + payload
    chunk += struct.pack(">I", zlib.crc32(kind + payload))
    end = png.rindex(b"IEND") - 4
    return png[:end] + chunk + png[end:]


def test_a_png_exif_chunk_after_the_pixels_is_not_read() -> None:
    # Reading it would mean decoding every pixel first: the header is all probe reads
    png = encode(Image.new("RGB", (60, 40), "white"), "PNG")
    late = with_chunk_before_end(png, b"eXIf", orientation_exif(6)[6:])  # without "Exif\0\0"

    header = probe(late, GENEROUS)

    assert (header.orientation, header.width, header.height) == (1, 60, 40)


MALFORMED_EXIF = b"Exif\x00\x00" + b"\xee" * 40  # no TIFF header where one must be


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_malformed_exif_block_is_ignored_not_fatal(fmt: str, entry_point: str) -> None:
    # Given a photo whose EXIF block Pillow cannot parse (it raises for PNG and WebP)
    data = photo_with_exif(fmt, MALFORMED_EXIF)

    # Then every entry point treats it as a photo without EXIF
    result = ENTRY_POINTS[entry_point](data, GENEROUS)

    if entry_point == "probe":
        assert result == PhotoHeader(fmt, CONTENT_TYPES[fmt], 60, 40, 1, 1, "RGB")
    elif entry_point == "read_metadata":
        assert isinstance(result, PhotoMetadata)
        assert (result.orientation, result.camera_make, result.taken_at) == (1, None, None)
    else:
        assert isinstance(result, list)
        assert {(r.width, r.height) for r in result} == {(60, 40)}


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
    with pytest.raises(EmptyPhoto) as refused:
        probe(b"", GENEROUS)

    assert str(refused.value) == "the photo is empty (0 bytes)"


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
    ("cap", "refusal"),
    [
        (999, "photo is 1.0 KB (1,000 bytes), over the 999 bytes limit"),
        (1000, "photo is 1.0 KB (1,001 bytes), over the 1.0 KB limit"),
        (10**6, "photo is 1.0 MB (1,000,001 bytes), over the 1.0 MB limit"),
        (10**9, "photo is 1.0 GB (1,000,000,001 bytes), over the 1.0 GB limit"),
    ],
)
def test_byte_cap_message_names_sizes_in_units_a_person_reads(cap: int, refusal: str) -> None:
    # One byte over the cap, refused before a byte is read: an anonymous mapping holds
    # the gigabyte without the memory
    with mmap.mmap(-1, cap + 1) as over, pytest.raises(PhotoTooLarge) as refused:
        probe(over, Limits(max_bytes=cap, max_pixels=10**8))  # type: ignore[arg-type]

    assert str(refused.value) == refusal


@pytest.mark.parametrize(
    ("max_pixels", "refusal"),
    [
        (3073, None),
        (3072, None),  # exactly at the cap: accepted
        (3071, "image is 64x48 = 3,072 pixels, over the 3,071 pixels limit"),
        (1, "image is 64x48 = 3,072 pixels, over the 1 pixels limit"),
    ],
)
def test_pixel_cap_boundaries(max_pixels: int, refusal: str | None) -> None:
    # Given a 64x48 photo: 3,072 pixels
    data = make_photo(64, 48)
    limits = Limits(max_bytes=10**7, max_pixels=max_pixels)

    if refusal is None:
        assert (probe(data, limits).width, probe(data, limits).height) == (64, 48)
        assert len(make_thumbnails(data, [32], limits)) == 1
    else:
        for entry_point in ENTRY_POINTS.values():
            with pytest.raises(TooManyPixels) as refused:
                entry_point(data, limits)
            assert str(refused.value) == refusal


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        ((316, 316), "image is 316x316 = 99,856 pixels, over the 99,855 pixels limit"),
        ((400, 250), "image is 400x250 = 0.1 MP, over the 99,855 pixels limit"),
        ((1050, 1000), "image is 1050x1000 = 1.1 MP, over the 99,855 pixels limit"),
    ],
)
def test_pixel_counts_switch_to_megapixels_at_100000(size: tuple[int, int], shown: str) -> None:
    with pytest.raises(TooManyPixels) as refused:
        probe(make_photo(*size, quality=50), Limits(max_bytes=10**7, max_pixels=99_855))

    assert str(refused.value) == shown


ACCEPTED = "; accepted formats: JPEG, PNG, WEBP, GIF, TIFF, HEIF"
NOT_ACCEPTED = "not an image in an accepted format (JPEG, PNG, WEBP, GIF, TIFF, HEIF)"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"hello, this is a text file\n",
            'not an image: it looks like text ("hello, this is a text file")' + ACCEPTED,
        ),
        (b"\x00\x13\x37\x42 some binary data", NOT_ACCEPTED),
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            "not an image: it looks like a PDF document" + ACCEPTED,
        ),
        (
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
            "not an image: it looks like a ZIP archive" + ACCEPTED,
        ),
        (
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
            "not an image: it looks like a gzip archive" + ACCEPTED,
        ),
        (
            b"  <svg xmlns='http://www.w3.org/2000/svg'/>",
            "not an image: it looks like an SVG drawing" + ACCEPTED,
        ),
        (b"<?xml version='1.0'?><a/>", "not an image: it looks like an XML document" + ACCEPTED),
        (b"<!DOCTYPE html><html></html>", "not an image: it looks like an HTML page" + ACCEPTED),
        (b"\n<HTML><body></body></HTML>", "not an image: it looks like an HTML page" + ACCEPTED),
        (
            b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00",
            "not an image: it looks like an MP4 or QuickTime video" + ACCEPTED,
        ),
        # A document's signature is looked for in the first 64 bytes, after blanks
        (b" " * 60 + b"<svg/>", "not an image: it looks like an SVG drawing" + ACCEPTED),
        (b" " * 61 + b"<svg/>", 'not an image: it looks like text ("<sv")' + ACCEPTED),
        # Text is shown by its first line, at most 40 characters of it
        (
            b"first line\nsecond line\nthird",
            'not an image: it looks like text ("first line")' + ACCEPTED,
        ),
        (b"x" * 40, f'not an image: it looks like text ("{"x" * 40}")' + ACCEPTED),
        (b"y" * 41, f'not an image: it looks like text ("{"y" * 40}\u2026")' + ACCEPTED),
        # A character cut by the 64-byte window is left out (a 3-byte one: cut twice), not
        # refused as binary
        (
            b"z" * 62 + "\u20ac".encode(),
            f'not an image: it looks like text ("{"z" * 40}\u2026")' + ACCEPTED,
        ),
        # Containers and signatures that are only nearly an image's
        (b"RIFF\x00\x01\x00\x00AVI LIST", NOT_ACCEPTED),
        (b"XY" + b"\x00" * 12, NOT_ACCEPTED),
        (b"BM\x36\x00\x0c\x00\x01\x00\x00\x00", NOT_ACCEPTED),
    ],
)
def test_data_that_is_not_an_image_is_refused_with_what_it_looks_like(
    data: bytes, expected: str
) -> None:
    with pytest.raises(UnsupportedFormat) as refused:
        probe(data, GENEROUS)

    assert str(refused.value) == expected


def test_a_real_image_in_a_format_that_is_not_accepted_is_named() -> None:
    # Given a genuine BMP, which Pillow could read but the limits do not accept
    bmp = make_photo(64, 48, fmt="BMP")

    with pytest.raises(UnsupportedFormat) as refused:
        make_thumbnails(bmp, [32], GENEROUS)

    assert str(refused.value) == (
        "BMP images are not accepted; accepted formats: JPEG, PNG, WEBP, GIF, TIFF, HEIF"
    )


def test_a_format_accepted_by_configuration_alone_has_a_generic_content_type() -> None:
    bmp_too = Limits(max_bytes=10**7, max_pixels=10**8, formats=("JPEG", "BMP"))

    header = probe(make_photo(64, 48, fmt="BMP", exif_camera=None), bmp_too)

    assert (header.format, header.content_type) == ("BMP", "application/octet-stream")


def test_formats_can_be_narrowed_by_configuration() -> None:
    jpeg_only = Limits(max_bytes=10**7, max_pixels=10**8, formats=("JPEG",))

    with pytest.raises(UnsupportedFormat, match=r"^HEIF images are not accepted"):
        probe(make_photo(64, 48, fmt="HEIF"), jpeg_only)
    assert probe(make_photo(64, 48), jpeg_only).format == "JPEG"


BROKEN = b"\xee" * 64  # no valid header field of any format
UNREADABLE = "the file starts like a {} image but its header cannot be read"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's note on the broken TIFFs
@pytest.mark.parametrize(
    ("start", "message"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", UNREADABLE.format("JPEG")),
        # Pillow's JPEG opener reads on and runs out of markers: it says so
        (b"\xff\xd8\xff", "the image header cannot be read: Truncated File Read"),
        (b"\x89PNG\r\n\x1a\n", UNREADABLE.format("PNG")),
        (b"GIF87a", UNREADABLE.format("GIF")),
        (b"GIF89a", UNREADABLE.format("GIF")),
        # Every byte order and variant Pillow's TIFF plugin opens, BigTIFF included
        (b"II*\x00", UNREADABLE.format("TIFF")),
        (b"MM\x00*", UNREADABLE.format("TIFF")),
        (b"MM\x00+", UNREADABLE.format("TIFF")),
        (b"II\x00*", UNREADABLE.format("TIFF")),
        (b"MM*\x00", UNREADABLE.format("TIFF")),
        (b"II+\x00", "the image header cannot be read: Unable to seek to frame"),
        (b"RIFF\x00\x01\x00\x00WEBP", UNREADABLE.format("WEBP")),
        (
            b"RIFF\x00\x01\x00\x00WEBPVP8L",
            "the image header cannot be read: could not create decoder object",
        ),
        # Every HEIF brand pi-heif opens
        *(
            (b"\x00\x00\x00\x18ftyp" + brand, UNREADABLE.format("HEIF"))
            for brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs")
        ),
        (b"\x00\x00\x00\x18ftypmif1", UNREADABLE.format("HEIF")),
        (b"\x00\x00\x00\x18ftypmsf1", UNREADABLE.format("HEIF")),
    ],
)
def test_a_header_that_starts_like_an_accepted_format_but_breaks_is_corrupt(
    start: bytes, message: str
) -> None:
    # CorruptImage, not UnsupportedFormat: the API answers 422, not 415, and the
    # failure record names a damaged photo rather than a wrong kind of file
    with pytest.raises(CorruptImage) as refused:
        probe(start + BROKEN, GENEROUS)

    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("start", "fmt"),
    [
        (b"\xff\xd8\xff", "JPEG"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"GIF87a", "GIF"),
        (b"GIF89a", "GIF"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
        (b"II+\x00", "TIFF"),
        (b"RIFF\x00\x01\x00\x00WEBP", "WEBP"),
        *(
            (b"\x00\x00\x00\x18ftyp" + brand, "HEIF")
            for brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")
        ),
        (b"\x00\x00\x00\x18ftypavif", "AVIF"),
        (b"\x00\x00\x00\x18ftypavis", "AVIF"),
        (b"8BPS\x00\x01", "PSD"),
        (b"\xff\x4f\xff\x51", "JPEG2000"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
        (b"qoif", "QOI"),
        (b"\x00\x00\x01\x00", "ICO"),
        (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00", "BMP"),
    ],
)
def test_a_broken_image_of_a_format_not_accepted_is_named(start: bytes, fmt: str) -> None:
    # Given limits that accept only PCX, which none of these is
    pcx_only = Limits(max_bytes=10**6, max_pixels=10**6, formats=("PCX",))

    with pytest.raises(UnsupportedFormat) as refused:
        probe(start + BROKEN, pcx_only)

    assert str(refused.value) == f"{fmt} images are not accepted; accepted formats: PCX"


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
def test_decompression_bombs_are_refused_from_the_header(
    entry_point: str, size: tuple[int, int]
) -> None:
    # Given a ~1 KB PNG declaring 2500 MP or 100 MP, and a 50 MP cap
    bomb = decompression_bomb_png(*size)
    assert len(bomb) < 4096
    started = time.perf_counter()

    with pytest.raises(TooManyPixels) as refused:
        ENTRY_POINTS[entry_point](bomb, FIFTY_MP)

    # Then it was refused from the header: decoding 100 MP takes seconds
    assert time.perf_counter() - started < 0.5
    message = str(refused.value)
    pixels = f"{size[0] * size[1] / 10**6:.1f} MP"
    # (Pillow's own bomb check caught it first: its count of pixels is all there is to say)
    assert message == f"image is {pixels}, over the 50.0 MP limit"


# In a process of its own, whose address space is then capped 64 MB above what it
# already maps: decoding the 100 MP bomb needs 300 MB, so any attempt to allocate its
# pixels fails there with MemoryError. (ru_maxrss would not do: a process's peak, which
# earlier tests may have raised, and blind to memory allocated but not yet written.)
MEASURED_IN_A_FRESH_PROCESS = """
import re, resource, sys
from tests.photos import decompression_bomb_png, make_photo
from tests.unit.test_probe import ENTRY_POINTS, FIFTY_MP

entry_point = ENTRY_POINTS[sys.argv[1]]
bomb = decompression_bomb_png(int(sys.argv[2]), int(sys.argv[3]))
entry_point(make_photo(64, 48), FIFTY_MP)  # whatever loads on first use is loaded now
with open("/proc/self/status", encoding="ascii") as status:
    mapped = int(re.search(r"VmSize:\\s+(\\d+) kB", status.read())[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (mapped + 64 * 2**20, resource.RLIM_INFINITY))
try:
    entry_point(bomb, FIFTY_MP)
    sys.stdout.write("accepted")
except BaseException as error:
    sys.stdout.write(type(error).__name__)
"""


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("size", [(50_000, 50_000), (10_000, 10_000)])
def test_decompression_bombs_are_refused_without_allocating(
    entry_point: str, size: tuple[int, int]
) -> None:
    measured = subprocess.run(
        [sys.executable, "-c", MEASURED_IN_A_FRESH_PROCESS, entry_point, *map(str, size)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )

    assert (measured.returncode, measured.stdout) == (0, "TooManyPixels"), measured.stderr


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


def test_a_bomb_exactly_at_the_configured_cap_is_refused_by_pillows_threshold() -> None:
    # Given a cap of exactly the bomb's 100 MP: only Pillow's 89.5 MP threshold refuses it
    exact = Limits(max_bytes=10**8, max_pixels=100 * 10**6)

    with pytest.raises(TooManyPixels) as refused:
        probe(decompression_bomb_png(10_000, 10_000), exact)

    assert str(refused.value) == "image is 100.0 MP, over the 89.5 MP limit"


def test_a_bomb_warning_worded_otherwise_still_names_the_cap() -> None:
    with pytest.raises(TooManyPixels) as refused, decoding(FIFTY_MP, "PNG"):
        raise Image.DecompressionBombError("decompression bomb")

    assert str(refused.value) == "image is over the 50.0 MP limit"


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
    with pytest.raises(CorruptImage) as refused:
        make_thumbnails(data, [256], GENEROUS)
    assert str(refused.value).startswith("the JPEG image data is damaged or incomplete: ")


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

    with pytest.raises(RuntimeError) as refused:
        make_thumbnails(truncated_jpeg(), [256], GENEROUS)

    assert str(refused.value) == "PIL.ImageFile.LOAD_TRUNCATED_IMAGES must be False"


def test_every_refusal_is_a_permanent_invalid_photo_with_a_stable_name() -> None:
    # The API's status codes and the failure records go by these names: renaming, adding
    # or re-parenting a refusal must be a deliberate change to this list
    refusals = sorted(cls.__name__ for cls in InvalidPhoto.__subclasses__())

    assert refusals == [
        "CorruptImage",
        "EmptyPhoto",
        "PhotoTooLarge",
        "TooManyPixels",
        "UnsupportedFormat",
    ]
    assert InvalidPhoto.__bases__ == (Exception,)
    # and the API answers each with a status of its own choosing, not a default
    assert sorted(api_error_statuses()) == refusals


def api_error_statuses() -> list[str]:
    """The refusals the domain's error table (photoflow.errors, which the API answers by)
    gives a status of their own."""
    from photoflow.errors import registry

    return [entry.name for entry in registry() if issubclass(entry.error, InvalidPhoto)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_bytes": 0, "max_pixels": 1}, "max_bytes must be positive, got 0"),
        ({"max_bytes": -1, "max_pixels": 1}, "max_bytes must be positive, got -1"),
        ({"max_bytes": 1, "max_pixels": 0}, "max_pixels must be positive, got 0"),
        ({"max_bytes": 1, "max_pixels": -5}, "max_pixels must be positive, got -5"),
        (
            {"max_bytes": 1, "max_pixels": 1, "formats": ()},
            "formats must name at least one image format",
        ),
        (
            {"max_bytes": 1, "max_pixels": 1, "formats": ("jpeg",)},
            "formats are upper-case Pillow format names, got 'jpeg'",
        ),
        (
            {"max_bytes": 1, "max_pixels": 1, "formats": ("JPEG", "")},
            "formats are upper-case Pillow format names, got ''",
        ),
    ],
)
def test_limits_refuse_nonsense(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        Limits(**arguments)  # type: ignore[arg-type]

    assert str(refused.value) == message


def test_limits_of_one_byte_and_one_pixel_are_limits() -> None:
    smallest = Limits(max_bytes=1, max_pixels=1, formats=("JPEG",))

    assert (smallest.max_bytes, smallest.max_pixels, smallest.formats) == (1, 1, ("JPEG",))


def test_limits_and_headers_cannot_be_changed_once_made() -> None:
    header = probe(make_photo(64, 48), GENEROUS)

    with pytest.raises(dataclasses.FrozenInstanceError):
        GENEROUS.max_pixels = 10**12  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        header.width = 1  # type: ignore[misc]


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
