"""Metadata from the header (EXIF, GPS), and pixel summaries (dominant colours, pHash)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import struct
from datetime import datetime, timedelta, timezone

import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw
from PIL.TiffImagePlugin import IFDRational

from photoflow.imaging import (
    NEAR_DUPLICATE_DISTANCE,
    CorruptImage,
    GpsPosition,
    PhotoMetadata,
    PhotoTooLarge,
    TooManyPixels,
    UnsupportedFormat,
    hamming_distance,
    is_near_duplicate,
    make_thumbnails,
    read_metadata,
    summarize_pixels,
    summarize_rendition,
)
from tests.photos import (
    ASCII,
    GENEROUS,
    RATIONAL,
    SHORT,
    ascii_value,
    decode,
    decompression_bomb_png,
    encode,
    exif_block,
    make_photo,
    rationals,
    render_scene,
    truncated_jpeg,
)

MAKE, MODEL, DATE_TIME = 0x010F, 0x0110, 0x0132
BYTE, UNDEFINED, SIGNED_RATIONAL = 1, 7, 10  # TIFF types: bytes, raw bytes, signed rationals


def rgb(colour: str) -> tuple[int, int, int]:
    """The red, green and blue of "#rrggbb"."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference of two "#rrggbb" colours, measured by LittleCMS (through
    Pillow's ImageCms), not by the code under test."""
    to_lab = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )
    pixels = Image.new("RGB", (2, 1))
    pixels.putpixel((0, 0), rgb(a))
    pixels.putpixel((1, 0), rgb(b))
    lab = ImageCms.applyTransform(pixels, to_lab)
    assert lab is not None
    # Pillow's 8-bit LAB: L scaled to 0-255, a and b offset by 128
    (l1, a1, b1), (l2, a2, b2) = (lab.getpixel((x, 0)) for x in (0, 1))  # type: ignore[misc]
    return float(((l1 - l2) * 100 / 255) ** 2 + (a1 - a2) ** 2 + (b1 - b2) ** 2) ** 0.5


LATITUDE_REF, LATITUDE, LONGITUDE_REF, LONGITUDE = 1, 2, 3, 4
ALTITUDE_REF, ALTITUDE = 5, 6


def test_camera_lens_time_and_position_are_read() -> None:
    # Given a photo taken in Valparaiso: southern and western hemisphere
    data = make_photo(
        1600,
        1067,
        exif_camera=("Canon", "EOS R5"),
        lens="RF24-105mm F4 L IS USM",
        taken_at=datetime(2024, 3, 9, 18, 42, 5),
        gps=(-33.0381, -71.6290, 12.5),
    )

    metadata = read_metadata(data, GENEROUS)

    assert metadata.gps is not None
    assert metadata.gps.latitude == pytest.approx(-33.0381, abs=1e-6)
    assert metadata.gps.longitude == pytest.approx(-71.6290, abs=1e-6)
    assert metadata == PhotoMetadata(
        format="JPEG",
        content_type="image/jpeg",
        width=1600,
        height=1067,
        orientation=1,
        frames=1,
        camera_make="Canon",
        camera_model="EOS R5",
        lens_model="RF24-105mm F4 L IS USM",
        taken_at="2024-03-09T18:42:05",
        gps=GpsPosition(metadata.gps.latitude, metadata.gps.longitude, altitude=12.5),
    )


@pytest.mark.parametrize(
    ("position", "signs"),
    [
        ((48.8584, 2.2945), (1, 1)),  # Paris: north, east
        ((-33.8568, 151.2153), (-1, 1)),  # Sydney: south, east
        ((40.6892, -74.0445), (1, -1)),  # New York: north, west
        ((-22.9519, -43.2105), (-1, -1)),  # Rio de Janeiro: south, west
    ],
)
def test_gps_hemispheres_give_the_signs(
    position: tuple[float, float], signs: tuple[int, int]
) -> None:
    gps = read_metadata(make_photo(320, 240, gps=position), GENEROUS).gps

    assert gps is not None
    assert (gps.latitude, gps.longitude) == pytest.approx(position, abs=1e-6)
    assert (gps.latitude > 0, gps.longitude > 0) == (signs[0] > 0, signs[1] > 0)
    assert gps.altitude is None


def test_altitude_below_sea_level_is_negative() -> None:
    gps = read_metadata(make_photo(320, 240, gps=(31.5, 35.5, -430.5)), GENEROUS).gps

    assert gps is not None and gps.altitude == -430.5


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "HEIF"])
def test_exif_is_read_from_every_format_that_carries_it(fmt: str) -> None:
    data = make_photo(
        400, 300, fmt=fmt, exif_camera=("Nikon", "Z 8"), gps=(-1.5, -78.25), lens="NIKKOR Z"
    )

    metadata = read_metadata(data, GENEROUS)

    assert (metadata.format, metadata.camera_make, metadata.camera_model) == (fmt, "Nikon", "Z 8")
    assert metadata.lens_model == "NIKKOR Z"
    assert metadata.gps is not None
    assert (metadata.gps.latitude, metadata.gps.longitude) == pytest.approx((-1.5, -78.25))


def test_a_photo_without_exif_has_nulls() -> None:
    metadata = read_metadata(make_photo(160, 120, fmt="GIF", frames=2), GENEROUS)

    assert metadata.to_dict() == {
        "format": "GIF",
        "content_type": "image/gif",
        "width": 160,
        "height": 120,
        "orientation": 1,
        "frames": 2,
        "camera_make": None,
        "camera_model": None,
        "lens_model": None,
        "taken_at": None,
        "gps": None,
    }


def test_to_dict_is_json_ready_and_keeps_nulls() -> None:
    data = make_photo(320, 240, gps=(-33.0381, -71.629), lens=None)

    as_json = json.loads(json.dumps(read_metadata(data, GENEROUS).to_dict()))

    assert as_json["lens_model"] is None
    assert as_json["gps"] == {"latitude": -33.0381, "longitude": -71.629, "altitude": None}
    assert as_json["camera_make"] == "Canon"


def test_orientation_swaps_the_reported_size() -> None:
    metadata = read_metadata(make_photo(1200, 1600, orientation=6), GENEROUS)

    assert (metadata.width, metadata.height, metadata.orientation) == (1200, 1600, 6)


def test_time_carries_the_cameras_utc_offset_when_recorded() -> None:
    taken_at = datetime(2024, 7, 21, 9, 15, tzinfo=timezone(timedelta(hours=-3)))

    metadata = read_metadata(make_photo(320, 240, taken_at=taken_at), GENEROUS)

    assert metadata.taken_at == "2024-07-21T09:15:00-03:00"


def jpeg_with_raw_exif(
    ifd0: list[tuple[int, int, int, bytes]],
    gps: list[tuple[int, int, int, bytes]] | None = None,
    *,
    gps_offset: int | None = None,
) -> bytes:
    exif = exif_block(ifd0, gps or [], gps_offset=gps_offset)
    return encode(Image.new("RGB", (64, 48), "grey"), "JPEG", exif=exif)


def test_datetime_falls_back_to_the_file_time_when_the_original_is_missing() -> None:
    data = jpeg_with_raw_exif([(DATE_TIME, ASCII, *ascii_value("2023:01:02 03:04:05"))])

    assert read_metadata(data, GENEROUS).taken_at == "2023-01-02T03:04:05"


@pytest.mark.parametrize(
    "stamp", ["0000:00:00 00:00:00", "2023:13:45 25:00:00", "    :  :     :  :  ", "yesterday"]
)
def test_blank_or_impossible_times_are_skipped(stamp: str) -> None:
    data = jpeg_with_raw_exif([(DATE_TIME, ASCII, *ascii_value(stamp))])

    assert read_metadata(data, GENEROUS).taken_at is None


def test_strings_lose_their_nul_padding_and_whitespace() -> None:
    data = jpeg_with_raw_exif(
        [
            (MAKE, ASCII, *ascii_value("  FUJIFILM\x00\x00\x00")),
            (MODEL, ASCII, *ascii_value("\x00\x00")),
        ]
    )

    metadata = read_metadata(data, GENEROUS)

    assert (metadata.camera_make, metadata.camera_model) == ("FUJIFILM", None)


S_33_51_31 = rationals((33, 1), (51, 1), (3156, 100))
W_151_12_55 = rationals((151, 1), (12, 1), (5508, 100))


@pytest.mark.parametrize(
    ("case", "gps"),
    [
        (
            "latitude written as text",
            [
                (LATITUDE_REF, ASCII, *ascii_value("S")),
                (LATITUDE, ASCII, *ascii_value("33 deg 51' 31.56\"")),
                (LONGITUDE_REF, ASCII, *ascii_value("W")),
                (LONGITUDE, RATIONAL, 3, W_151_12_55),
            ],
        ),
        (
            "hemisphere missing",
            [
                (LATITUDE, RATIONAL, 3, S_33_51_31),
                (LONGITUDE_REF, ASCII, *ascii_value("W")),
                (LONGITUDE, RATIONAL, 3, W_151_12_55),
            ],
        ),
        (
            "hemisphere nonsense",
            [
                (LATITUDE_REF, ASCII, *ascii_value("Q")),
                (LATITUDE, RATIONAL, 3, S_33_51_31),
                (LONGITUDE_REF, ASCII, *ascii_value("W")),
                (LONGITUDE, RATIONAL, 3, W_151_12_55),
            ],
        ),
        (
            "zero denominator",
            [
                (LATITUDE_REF, ASCII, *ascii_value("S")),
                (LATITUDE, RATIONAL, 3, rationals((33, 0), (0, 1), (0, 1))),
                (LONGITUDE_REF, ASCII, *ascii_value("W")),
                (LONGITUDE, RATIONAL, 3, W_151_12_55),
            ],
        ),
        (
            "out of range",
            [
                (LATITUDE_REF, ASCII, *ascii_value("N")),
                (LATITUDE, RATIONAL, 3, rationals((95, 1), (0, 1), (0, 1))),
                (LONGITUDE_REF, ASCII, *ascii_value("W")),
                (LONGITUDE, RATIONAL, 3, W_151_12_55),
            ],
        ),
    ],
)
def test_malformed_gps_is_skipped_and_the_rest_still_read(
    case: str, gps: list[tuple[int, int, int, bytes]]
) -> None:
    data = jpeg_with_raw_exif([(MAKE, ASCII, *ascii_value("Canon"))], gps)

    metadata = read_metadata(data, GENEROUS)

    assert metadata.gps is None, case
    assert metadata.camera_make == "Canon"


def test_gps_in_integers_instead_of_rationals_is_still_understood() -> None:
    # Some writers store degrees as SHORTs: odd, but unambiguous
    gps = [
        (LATITUDE_REF, ASCII, *ascii_value("S")),
        (LATITUDE, SHORT, 3, struct.pack(">HHH", 33, 30, 0) + b"\x00\x00"),
        (LONGITUDE_REF, ASCII, *ascii_value("W")),
        (LONGITUDE, RATIONAL, 3, rationals((70, 1), (15, 1), (0, 1))),
    ]

    position = read_metadata(jpeg_with_raw_exif([], gps), GENEROUS).gps

    assert position is not None
    assert (position.latitude, position.longitude) == pytest.approx((-33.5, -70.25))


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow's note on the broken link
def test_a_gps_link_pointing_outside_the_exif_is_skipped() -> None:
    data = jpeg_with_raw_exif([(MAKE, ASCII, *ascii_value("Sony"))], gps_offset=60_000)

    metadata = read_metadata(data, GENEROUS)

    assert (metadata.camera_make, metadata.gps) == ("Sony", None)


def test_wrongly_typed_camera_fields_do_not_crash() -> None:
    data = jpeg_with_raw_exif(
        [(MAKE, SHORT, 1, struct.pack(">H", 7)), (DATE_TIME, SHORT, 1, struct.pack(">H", 2024))]
    )

    metadata = read_metadata(data, GENEROUS)

    assert (metadata.camera_make, metadata.taken_at) == (None, None)


def test_metadata_needs_the_header_only() -> None:
    # Given photos whose pixel data is cut short: decoding them would fail
    jpeg = truncated_jpeg()
    png = make_photo(400, 300, fmt="PNG", exif_camera=("Leica", "Q3"))
    png = png[: len(png) // 2]

    assert read_metadata(jpeg, GENEROUS).camera_model == "EOS R5"
    assert read_metadata(png, GENEROUS).camera_make == "Leica"


# --- pixel summaries ---------------------------------------------------------------------


def test_phash_survives_reencoding_at_another_quality_and_size() -> None:
    # Given the same scene encoded twice, differently, and thumbnailed to different sizes
    high = make_photo(1200, 800, quality=95, seed=21)
    low = make_photo(1000, 667, quality=35, seed=21)

    first = summarize_rendition(make_thumbnails(high, [256], GENEROUS)[0].data)
    second = summarize_rendition(make_thumbnails(low, [200], GENEROUS, quality=50)[0].data)

    assert hamming_distance(first.phash, second.phash) <= 6


@pytest.mark.parametrize(("seed", "other_seed"), [(1, 2), (5, 9), (10, 11), (21, 22)])
def test_phash_tells_different_photos_apart(seed: int, other_seed: int) -> None:
    first = summarize_pixels(render_scene(512, 341, seed=seed))
    second = summarize_pixels(render_scene(512, 341, seed=other_seed))

    assert hamming_distance(first.phash, second.phash) >= 20


def test_phash_bits_of_unrelated_photos_disagree_about_half_the_time() -> None:
    # Unrelated photos should differ in about 32 of 64 bits; a hash dominated by one
    # feature (brightness, a shared border) would sit far lower
    hashes = [summarize_pixels(render_scene(256, 171, seed=seed)).phash for seed in range(1, 11)]

    distances = [hamming_distance(a, b) for a, b in itertools.combinations(hashes, 2)]

    assert 24 <= sum(distances) / len(distances) <= 40


def test_phash_is_sixteen_hex_digits() -> None:
    phash = summarize_pixels(render_scene(300, 200)).phash

    assert re.fullmatch(r"[0-9a-f]{16}", phash)


def test_summary_of_an_image_and_of_its_encoded_rendition_agree() -> None:
    scene = render_scene(256, 171, seed=8)

    direct = summarize_pixels(scene)
    encoded = summarize_rendition(encode(scene, "JPEG", quality=85))

    assert hamming_distance(direct.phash, encoded.phash) <= 4
    # Each colour the JPEG covers 5% of is one found in the original pixels
    for found in encoded.palette:
        if found.share >= 0.05:
            assert min(delta_e(found.colour, c) for c in direct.dominant_colours) <= 10, (
                encoded.palette,
                direct.palette,
            )


def test_dominant_colours_of_a_two_colour_image() -> None:
    # Given 70% brick red and 30% navy blue
    image = Image.new("RGB", (300, 200), (180, 40, 30))
    image.paste((20, 30, 120), (210, 0, 300, 200))

    colours = summarize_rendition(encode(image, "JPEG", quality=90)).dominant_colours

    assert len(colours) == 2, colours
    assert delta_e(colours[0], "#b4281e") <= 3, colours
    assert delta_e(colours[1], "#141e78") <= 3, colours


def disc(size: tuple[int, int], ground: str, colour: str, box: tuple[int, int, int, int]) -> bytes:
    """A JPEG of one colour with a disc of another, as the thumbnail step summarizes it."""
    image = Image.new("RGB", size, ground)
    ImageDraw.Draw(image).ellipse(box, fill=colour)
    [smallest] = make_thumbnails(encode(image, "JPEG", quality=90), [256], GENEROUS)
    return smallest.data


def stripes(size: tuple[int, int], *bands: tuple[str, int]) -> bytes:
    """A JPEG of vertical bands (colour, width in pixels), as the thumbnail step summarizes it."""
    image = Image.new("RGB", size)
    left = 0
    for colour, width in bands:
        image.paste(colour, (left, 0, left + width, size[1]))
        left += width
    [smallest] = make_thumbnails(encode(image, "JPEG", quality=85), [256], GENEROUS)
    return smallest.data


@pytest.mark.parametrize(
    ("photo", "expected"),
    [
        pytest.param(
            # a disc of radius 300 on 1600 x 1200: pi * 300^2 / 1,920,000 = 14.7%
            disc((1600, 1200), "#1f3cc8", "#e6c828", (500, 300, 1100, 900)),
            [("#1f3cc8", 0.853), ("#e6c828", 0.147)],
            id="blue with a yellow disc",
        ),
        pytest.param(
            # an ellipse of radii 400 and 600 on 1600 x 1200: pi * 400 * 600 / 1,920,000
            disc((1600, 1200), "#ffffff", "#c80000", (0, 0, 800, 1200)),
            [("#ffffff", 0.607), ("#c80000", 0.393)],
            id="white with a red ellipse",
        ),
        pytest.param(
            stripes((1000, 600), ("#2e8b57", 500), ("#f5f5f5", 300), ("#b22222", 200)),
            [("#2e8b57", 0.5), ("#f5f5f5", 0.3), ("#b22222", 0.2)],
            id="green, white and red bands",
        ),
        pytest.param(
            # two navies a viewer cannot tell apart (CIE76 about 3) are one colour: 35% + 25%
            stripes((1000, 600), ("#ff8c00", 400), ("#141e78", 350), ("#18227e", 250)),
            [("#161f7b", 0.6), ("#ff8c00", 0.4)],
            id="orange and two shades of navy",
        ),
        pytest.param(
            # five colours: the smallest first on the left, to show order is by area alone
            stripes(
                (1000, 500),
                ("#ffd700", 50),
                ("#8a2be2", 100),
                ("#000000", 150),
                ("#00ced1", 300),
                ("#dc143c", 400),
            ),
            [
                ("#dc143c", 0.4),
                ("#00ced1", 0.3),
                ("#000000", 0.15),
                ("#8a2be2", 0.1),
                ("#ffd700", 0.05),
            ],
            id="five bands of different widths",
        ),
    ],
)
def test_dominant_colours_are_the_named_colours_by_the_area_they_cover(
    photo: bytes, expected: list[tuple[str, float]]
) -> None:
    palette = summarize_rendition(photo).palette

    # one colour per colour drawn, in order of area, each close to the colour drawn
    assert len(palette) == len(expected), palette
    for found, (colour, share) in zip(palette, expected, strict=True):
        assert delta_e(found.colour, colour) <= 10, (found, colour)
        # the summary is counted on a 64 px copy: an edge pixel is about 1.5% of a band
        assert abs(found.share - share) <= 0.02, (found, share)


def test_dominant_colours_are_at_most_five_and_formatted() -> None:
    colours = summarize_pixels(render_scene(400, 300, seed=2)).dominant_colours

    assert 1 <= len(colours) <= 5
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours), colours
    assert len(set(colours)) == len(colours)


def test_summarize_pixels_accepts_any_mode() -> None:
    grey = render_scene(200, 100).convert("L")

    summary = summarize_pixels(grey)

    assert len(summary.phash) == 16
    assert all(c[1:3] == c[3:5] == c[5:7] for c in summary.dominant_colours)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("0000000000000000", "0000000000000000", 0),
        ("0000000000000000", "ffffffffffffffff", 64),
        ("8000000000000001", "0000000000000000", 2),
        ("f0f0f0f0f0f0f0f0", "0f0f0f0f0f0f0f0f", 64),
    ],
)
def test_hamming_distance(a: str, b: str, distance: int) -> None:
    assert hamming_distance(a, b) == distance == hamming_distance(b, a)


def test_hamming_distance_refuses_hashes_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        hamming_distance("ff", "fff")


def test_summary_of_a_large_rendition_matches_its_full_resolution_summary() -> None:
    # A 2048 px rendition is decoded at 1/8 scale from its DCT: the hash must not notice
    scene = decode(make_photo(2048, 1365, quality=85, seed=4))
    data = encode(scene, "JPEG", quality=85)

    assert hamming_distance(summarize_rendition(data).phash, summarize_pixels(scene).phash) <= 4


# --- exact values, at the edges -----------------------------------------------------------

DATE_TIME_ORIGINAL, OFFSET_TIME, OFFSET_TIME_ORIGINAL = 0x9003, 0x9010, 0x9011


def jpeg_with_exif(
    ifd0: dict[int, object] | None = None,
    details: dict[int, object] | None = None,
    gps: dict[int, object] | None = None,
) -> bytes:
    """A small JPEG whose EXIF holds exactly these entries (Pillow writes what it is given)."""
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    for tag, value in (details or {}).items():
        exif.get_ifd(ExifTags.IFD.Exif)[tag] = value
    for tag, value in (gps or {}).items():
        exif.get_ifd(ExifTags.IFD.GPSInfo)[tag] = value
    return encode(Image.new("RGB", (64, 48), "grey"), "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize(
    ("offset", "taken_at"),
    [
        ("+14:00", "2024-07-21T09:15:00+14:00"),  # the easternmost offset in use
        ("-12:59", "2024-07-21T09:15:00-12:59"),
        (" +05:30 ", "2024-07-21T09:15:00+05:30"),
        ("+15:00", "2024-07-21T09:15:00"),  # no such offset: the time is kept, local
        ("+05:60", "2024-07-21T09:15:00"),
        ("+0530", "2024-07-21T09:15:00"),
        ("", "2024-07-21T09:15:00"),
    ],
)
def test_utc_offsets_are_kept_only_when_they_are_real(offset: str, taken_at: str) -> None:
    data = jpeg_with_exif(
        details={DATE_TIME_ORIGINAL: "2024:07:21 09:15:00", OFFSET_TIME_ORIGINAL: offset}
    )

    assert read_metadata(data, GENEROUS).taken_at == taken_at


@pytest.mark.parametrize(
    ("ifd0", "details", "taken_at"),
    [
        # The original's time and offset win over the file's
        (
            {DATE_TIME: "2020:01:01 00:00:00"},
            {
                DATE_TIME_ORIGINAL: "2024:07:21 09:15:00",
                OFFSET_TIME_ORIGINAL: "+02:00",
                OFFSET_TIME: "-05:00",
            },
            "2024-07-21T09:15:00+02:00",
        ),
        # Without an original, the file's time goes with the file's offset
        (
            {DATE_TIME: "2020:01:01 00:00:00"},
            {OFFSET_TIME_ORIGINAL: "+02:00", OFFSET_TIME: "-05:00"},
            "2020-01-01T00:00:00-05:00",
        ),
        # A blank original falls back too; ISO-like separators are read as well
        (
            {DATE_TIME: "2020-01-01T00:00:00"},
            {DATE_TIME_ORIGINAL: "    :  :     :  :  "},
            "2020-01-01T00:00:00",
        ),
    ],
)
def test_the_original_time_is_preferred_to_the_files(
    ifd0: dict[int, object], details: dict[int, object], taken_at: str
) -> None:
    assert read_metadata(jpeg_with_exif(ifd0, details), GENEROUS).taken_at == taken_at


DMS_33_51_31 = (IFDRational(33, 1), IFDRational(51, 1), IFDRational(3156, 100))


def degrees(whole: int) -> tuple[IFDRational, IFDRational, IFDRational]:
    return IFDRational(whole, 1), IFDRational(0, 1), IFDRational(0, 1)


@pytest.mark.parametrize(
    ("reference", "latitude", "expected"),
    [
        ("S", DMS_33_51_31, -33.8587667),  # 33 + 51/60 + 31.56/3600, to 7 decimals
        ("s", DMS_33_51_31, -33.8587667),
        ("N", DMS_33_51_31, 33.8587667),
        ("N", (IFDRational(45, 1), IFDRational(30, 1)), 45.5),  # no seconds
        ("N", (IFDRational(90, 1), IFDRational(0, 1), IFDRational(0, 1)), 90.0),  # the pole
        ("N", (IFDRational(0, 1), IFDRational(0, 1), IFDRational(0, 1)), 0.0),
        ("N", (IFDRational(90, 1), IFDRational(0, 1), IFDRational(1, 100)), None),  # past it
        ("N", (IFDRational(45, 1), IFDRational(0, 1), IFDRational(0, 1), IFDRational(0, 1)), None),
        ("N", (), None),
        ("E", DMS_33_51_31, None),  # a longitude's hemisphere on a latitude
    ],
)
def test_latitudes_are_read_exactly_and_only_when_sensible(
    reference: str, latitude: tuple[IFDRational, ...], expected: float | None
) -> None:
    data = jpeg_with_exif(
        gps={
            ExifTags.GPS.GPSLatitudeRef: reference,
            ExifTags.GPS.GPSLatitude: latitude,
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: degrees(180),
        }
    )

    gps = read_metadata(data, GENEROUS).gps

    if expected is None:
        assert gps is None
    else:
        assert gps == GpsPosition(latitude=expected, longitude=180.0, altitude=None)


def test_a_negative_part_of_a_coordinate_is_refused() -> None:
    # Signed rationals, which only a broken writer would use for a coordinate
    signed = struct.pack(">iiiiii", 45, 1, -30, 1, 0, 1)
    gps = [
        (LATITUDE_REF, ASCII, *ascii_value("N")),
        (LATITUDE, SIGNED_RATIONAL, 3, signed),
        (LONGITUDE_REF, ASCII, *ascii_value("E")),
        (LONGITUDE, RATIONAL, 3, rationals((20, 1), (0, 1), (0, 1))),
    ]

    assert read_metadata(jpeg_with_raw_exif([], gps), GENEROUS).gps is None


@pytest.mark.parametrize(
    ("longitude", "expected"),
    [
        ((IFDRational(180, 1), IFDRational(0, 1), IFDRational(0, 1)), -180.0),
        ((IFDRational(180, 1), IFDRational(0, 1), IFDRational(1, 100)), None),
    ],
)
def test_longitudes_end_at_180_degrees(
    longitude: tuple[IFDRational, ...], expected: float | None
) -> None:
    data = jpeg_with_exif(
        gps={
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: degrees(10),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: longitude,
        }
    )

    gps = read_metadata(data, GENEROUS).gps

    assert (gps.longitude if gps else None) == expected


@pytest.mark.parametrize(
    ("altitude", "reference", "expected"),
    [
        (IFDRational(10001, 1000), b"\x00", 10.0),  # to the centimetre
        (IFDRational(1234, 100), b"\x01", -12.34),  # 1: below sea level
        (IFDRational(1234, 100), 1, -12.34),  # the BYTE as a number
        (IFDRational(1234, 100), 0, 12.34),
        (IFDRational(1234, 100), None, 12.34),
        (IFDRational(0, 0), b"\x00", None),  # 0/0: no altitude
    ],
)
def test_altitude_is_signed_by_its_reference(
    altitude: IFDRational, reference: object, expected: float | None
) -> None:
    gps: dict[int, object] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: degrees(10),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: degrees(20),
        ExifTags.GPS.GPSAltitude: altitude,
    }
    if reference is not None:
        gps[ExifTags.GPS.GPSAltitudeRef] = reference

    position = read_metadata(jpeg_with_exif(gps=gps), GENEROUS).gps

    assert position == GpsPosition(latitude=10.0, longitude=20.0, altitude=expected)


@pytest.mark.parametrize(
    ("raw", "make"),
    [
        (b"Ricoh\x00", "Ricoh"),
        (b"\xffRicoh", "\ufffdRicoh"),  # not UTF-8: replaced, not refused
        (b"  \x00", None),
    ],
)
def test_camera_text_stored_as_bytes_is_decoded(raw: bytes, make: str | None) -> None:
    data = jpeg_with_raw_exif([(MAKE, UNDEFINED, len(raw), raw)])

    assert read_metadata(data, GENEROUS).camera_make == make


def test_hamming_distance_names_the_lengths_it_was_given() -> None:
    with pytest.raises(ValueError) as refused:
        hamming_distance("ff", "fff")

    assert str(refused.value) == "hashes have different lengths: 2 and 3 hex digits"


@pytest.mark.parametrize(
    ("seed", "phash", "palette"),
    [
        (
            1,
            "f9f07545054cd475",
            [
                ("#6f79b8", 0.234),
                ("#a1915a", 0.183),
                ("#558bd1", 0.15),
                ("#a05f93", 0.137),
                ("#b5b282", 0.114),
            ],
        ),
        (
            2,
            "d216981d6f6d6266",
            [
                ("#60469b", 0.435),
                ("#453a6a", 0.257),
                ("#bc3074", 0.098),
                ("#b989c5", 0.055),
                ("#4e4e64", 0.048),
            ],
        ),
        (
            3,
            "bd659145d515e515",
            [
                ("#b275a4", 0.662),
                ("#ad548c", 0.182),
                ("#65b9c9", 0.06),
                ("#ad606b", 0.04),
                ("#308745", 0.032),
            ],
        ),
    ],
)
def test_summaries_of_known_scenes(seed: int, phash: str, palette: list[tuple[str, float]]) -> None:
    # Recorded once from the implementation the other tests characterise (Pillow pinned):
    # any change to the hash, the colours or their shares changes these
    summary = summarize_pixels(render_scene(300, 200, seed=seed))

    assert summary.to_dict() == {
        "palette": [{"colour": colour, "share": share} for colour, share in palette],
        "phash": phash,
        "blurhash": summary.blurhash,  # checked against the reference in test_placeholder
    }
    assert (summary.blurhash[0], len(summary.blurhash)) == ("L", 28)


def test_a_colour_covering_exactly_one_percent_is_dominant() -> None:
    # Given 1,000 pixels (small enough to be counted as they are): 10 red, 990 grey
    image = Image.new("RGB", (50, 20), (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, 10, 1))
    assert summarize_pixels(image).dominant_colours == ["#808080", "#ff0000"]

    # and one red pixel fewer is under the threshold
    image.paste((128, 128, 128), (9, 0, 10, 1))
    assert summarize_pixels(image).dominant_colours == ["#808080"]


def test_colours_covering_as_much_are_listed_by_name() -> None:
    image = Image.new("RGB", (40, 10), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 10))

    assert summarize_pixels(image).dominant_colours == ["#0000ff", "#ff0000"]


def test_at_most_five_colours_are_dominant() -> None:
    # Given eight colours in equal stripes
    image = Image.new("RGB", (64, 8))
    for stripe, colour in enumerate(
        ["red", "lime", "blue", "yellow", "cyan", "magenta", "black", "white"]
    ):
        image.paste(colour, (stripe * 8, 0, stripe * 8 + 8, 8))

    # Then five of them, each exact, each an eighth; equal shares in the order of their codes
    assert summarize_pixels(image).to_dict()["palette"] == [
        {"colour": "#000000", "share": 0.125},
        {"colour": "#0000ff", "share": 0.125},
        {"colour": "#00ff00", "share": 0.125},
        {"colour": "#00ffff", "share": 0.125},
        {"colour": "#ff0000", "share": 0.125},
    ]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_renditions_are_summarized_in_the_formats_this_package_writes(fmt: str) -> None:
    scene = render_scene(256, 171, seed=8)
    reference = summarize_pixels(scene).phash

    summary = summarize_rendition(
        encode(scene, fmt, quality=90) if fmt != "PNG" else encode(scene, fmt)
    )

    assert hamming_distance(summary.phash, reference) <= 4


def test_a_rendition_in_another_format_is_refused() -> None:
    with pytest.raises(UnsupportedFormat) as refused:
        summarize_rendition(encode(render_scene(64, 48), "GIF"))

    assert str(refused.value) == ("GIF images are not accepted; accepted formats: JPEG, PNG, WEBP")


def test_renditions_have_caps_of_their_own() -> None:
    # 64 MB of bytes at most...
    with pytest.raises(PhotoTooLarge) as refused:
        summarize_rendition(b"\xff" * (64 * 10**6 + 1))
    assert str(refused.value) == ("photo is 64.0 MB (64,000,001 bytes), over the 64.0 MB limit")
    with pytest.raises(UnsupportedFormat):  # (at the cap: read, and found not an image)
        summarize_rendition(b"\x00" * 64 * 10**6)
    # ...and 8192 x 8192 pixels
    with pytest.raises(TooManyPixels) as refused_pixels:
        summarize_rendition(decompression_bomb_png(8193, 8192))
    assert str(refused_pixels.value) == "image is 8193x8192 = 67.1 MP, over the 67.1 MP limit"


def test_a_black_image_has_the_all_zero_hash() -> None:
    # Every coefficient is 0, as is their median: no bit is above it
    assert summarize_pixels(Image.new("RGB", (64, 64))).phash == "0000000000000000"


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_any_mode_is_summarized_as_its_rgb_conversion(mode: str) -> None:
    image = render_scene(200, 120, seed=9).convert(mode)

    assert summarize_pixels(image) == summarize_pixels(image.convert("RGB"))


def test_a_damaged_rendition_is_named_by_its_format() -> None:
    with pytest.raises(CorruptImage) as refused:
        summarize_rendition(truncated_jpeg())

    assert str(refused.value).startswith("the JPEG image data is damaged or incomplete: ")


@pytest.mark.parametrize(
    ("reference", "altitude"),
    [
        ((SHORT, 1, struct.pack(">H", 1) + b"\x00\x00"), -12.34),  # a number, as some write it
        ((SHORT, 1, struct.pack(">H", 0) + b"\x00\x00"), 12.34),
        ((BYTE, 2, b"\x01\x00"), -12.34),  # two bytes: the first one counts
    ],
)
def test_altitude_references_written_otherwise_are_understood(
    reference: tuple[int, int, bytes], altitude: float
) -> None:
    gps = [
        (LATITUDE_REF, ASCII, *ascii_value("N")),
        (LATITUDE, RATIONAL, 3, rationals((10, 1), (0, 1), (0, 1))),
        (LONGITUDE_REF, ASCII, *ascii_value("E")),
        (LONGITUDE, RATIONAL, 3, rationals((20, 1), (0, 1), (0, 1))),
        (ALTITUDE_REF, *reference),
        (ALTITUDE, RATIONAL, 1, rationals((1234, 100))),
    ]

    position = read_metadata(jpeg_with_raw_exif([], gps), GENEROUS).gps

    assert position == GpsPosition(latitude=10.0, longitude=20.0, altitude=altitude)


def test_metadata_and_summaries_cannot_be_changed_once_made() -> None:
    metadata = read_metadata(make_photo(64, 48, gps=(1.0, 2.0)), GENEROUS)
    summary = summarize_pixels(render_scene(64, 48))

    for frozen, field in ((metadata, "width"), (metadata.gps, "latitude"), (summary, "phash")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, field, None)


@pytest.mark.parametrize(
    ("other", "duplicate"),
    [
        ("f9f07545054cd475", True),  # the same hash
        ("f9f07545054cd47a", True),  # 4 bits apart (5 = 0101, a = 1010)
        ("f9f07545054cd78a", True),  # the low 10 bits flipped: the threshold
        ("f9f07545054cdb8a", False),  # the low 12 bits flipped
    ],
)
def test_near_duplicates_are_within_ten_bits(other: str, duplicate: bool) -> None:
    assert NEAR_DUPLICATE_DISTANCE == 10
    assert is_near_duplicate("f9f07545054cd475", other) is duplicate
