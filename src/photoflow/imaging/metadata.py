"""What a photo says about itself (EXIF), and what its pixels look like.

``read_metadata`` reads the header only: camera, lens, time and position come
from EXIF without decoding a pixel. EXIF is written by every vendor slightly
differently, so each field is read on its own and a malformed one is skipped,
never fatal. ``summarize_pixels`` / ``summarize_rendition`` describe the pixels
(dominant colours and a perceptual hash); they are meant for a small derivative
such as the 256 px thumbnail, where they cost a few milliseconds.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any

from PIL import ExifTags, Image

from photoflow.imaging.limits import Limits
from photoflow.imaging.probe import decoding, header_exif, header_of, open_checked
from photoflow.imaging.thumbnails import fitted_size

_DATE_TIME = re.compile(r"^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_UTC_OFFSET = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")
# Renditions come from this package, not from uploads: a fixed budget that covers any
# sensible rendition (8192 px square) still refuses a bomb handed over by mistake.
_RENDITION_LIMITS = Limits(
    max_bytes=64 * 10**6, max_pixels=8192 * 8192, formats=("JPEG", "PNG", "WEBP")
)
_SUMMARY_EDGE = 64  # colours are counted on a thumbnail of this size
_DOMINANT_COLOURS = 5
_MINIMUM_SHARE = 0.01  # colours covering less of the picture are not "dominant"
_HASH_INPUT = 32  # the perceptual hash's DCT runs on a 32x32 grey image...
_HASH_FREQUENCIES = 8  # ...of which it keeps the 8x8 lowest frequencies: 64 bits


@dataclass(frozen=True)
class GpsPosition:
    latitude: float  # decimal degrees, negative in the southern hemisphere
    longitude: float  # decimal degrees, negative west of Greenwich
    altitude: float | None  # metres above sea level, negative below


@dataclass(frozen=True)
class PhotoMetadata:
    format: str
    content_type: str
    width: int  # as a viewer sees the photo (after the EXIF orientation)
    height: int
    orientation: int
    frames: int
    camera_make: str | None
    camera_model: str | None
    lens_model: str | None
    taken_at: str | None  # ISO 8601, with the UTC offset when the camera recorded one
    gps: GpsPosition | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; absent values stay present as None (null)."""
        return asdict(self)


@dataclass(frozen=True)
class PixelSummary:
    dominant_colours: list[str]  # "#rrggbb", most frequent first, at most five
    phash: str  # 64-bit DCT perceptual hash as 16 hex digits

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_metadata(data: bytes, limits: Limits) -> PhotoMetadata:
    """Header and EXIF facts of an untrusted photo; no pixel is decoded."""
    image = open_checked(data, limits)
    try:
        header = header_of(image, limits)
        exif = header_exif(image)
        # A TIFF's sub-IFDs are read from the file on first access: before it is closed.
        details = _sub_ifd(exif, ExifTags.IFD.Exif)
        gps = _sub_ifd(exif, ExifTags.IFD.GPSInfo)
    finally:
        image.close()
    return PhotoMetadata(
        format=header.format,
        content_type=header.content_type,
        width=header.width,
        height=header.height,
        orientation=header.orientation,
        frames=header.frames,
        camera_make=_text(exif.get(ExifTags.Base.Make)),
        camera_model=_text(exif.get(ExifTags.Base.Model)),
        lens_model=_text(details.get(ExifTags.Base.LensModel)),
        taken_at=_taken_at(exif, details),
        gps=_gps_position(gps),
    )


def summarize_pixels(image: Image.Image) -> PixelSummary:
    """Dominant colours and perceptual hash of an image (best: a small, upright RGB one)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return PixelSummary(dominant_colours=_dominant_colours(rgb), phash=_phash(rgb))


def summarize_rendition(data: bytes) -> PixelSummary:
    """``summarize_pixels`` of an encoded rendition (already upright), decoded at reduced scale."""
    image = open_checked(data, _RENDITION_LIMITS)
    # A JPEG decodes straight from its DCT at the smallest scale covering the summary size.
    image.draft("RGB", fitted_size(image.size, _SUMMARY_EDGE))
    with decoding(_RENDITION_LIMITS, image.format or "image"):
        image.load()
    return summarize_pixels(image)


def hamming_distance(a: str, b: str) -> int:
    """How many bits differ between two hashes of the same length (in hex)."""
    if len(a) != len(b):
        raise ValueError(f"hashes have different lengths: {len(a)} and {len(b)} hex digits")
    return (int(a, 16) ^ int(b, 16)).bit_count()


# --- EXIF -------------------------------------------------------------------------------


def _sub_ifd(exif: Image.Exif, ifd: ExifTags.IFD) -> dict[int, Any]:
    try:
        found = exif.get_ifd(ifd)
    except Exception:
        return {}  # a sub-IFD pointer to nowhere, or a loop: the rest of EXIF is still good
    return found if isinstance(found, dict) else {}


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned or None


def _taken_at(exif: Image.Exif, details: dict[int, Any]) -> str | None:
    for stamp, offset in (
        (
            details.get(ExifTags.Base.DateTimeOriginal),
            details.get(ExifTags.Base.OffsetTimeOriginal),
        ),
        (exif.get(ExifTags.Base.DateTime), details.get(ExifTags.Base.OffsetTime)),
    ):
        when = _iso_datetime(_text(stamp), _text(offset))
        if when is not None:
            return when
    return None


def _iso_datetime(stamp: str | None, offset: str | None) -> str | None:
    """EXIF "YYYY:MM:DD HH:MM:SS" as ISO 8601; None for blanks such as "0000:00:00 00:00:00"."""
    match = _DATE_TIME.match(stamp or "")
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    iso = when.isoformat()
    zone = _UTC_OFFSET.match(offset or "")
    if zone is not None and int(zone[2]) <= 14 and int(zone[3]) < 60:
        iso += f"{zone[1]}{zone[2]}:{zone[3]}"
    return iso


def _gps_position(gps: dict[int, Any]) -> GpsPosition | None:
    latitude = _coordinate(
        gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90
    )
    longitude = _coordinate(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180
    )
    if latitude is None or longitude is None:
        return None
    return GpsPosition(
        latitude=latitude,
        longitude=longitude,
        altitude=_altitude(gps.get(ExifTags.GPS.GPSAltitude), gps.get(ExifTags.GPS.GPSAltitudeRef)),
    )


def _coordinate(
    value: object, reference: object, positive: str, negative: str, limit: float
) -> float | None:
    """Degrees, minutes, seconds and a hemisphere letter as signed decimal degrees."""
    hemisphere = (_text(reference) or "").upper()
    if hemisphere not in (positive, negative):
        return None  # without its hemisphere a coordinate could be on either side of the world
    if (
        not isinstance(value, Sequence)
        or isinstance(value, (str, bytes))
        or not 1 <= len(value) <= 3
    ):
        return None
    parts = [_number(part) for part in value]
    if any(part is None or part < 0 for part in parts):
        return None
    degrees = sum(part / 60**power for power, part in enumerate(parts) if part is not None)
    if degrees > limit:
        return None
    return round(-degrees if hemisphere == negative else degrees, 7)


def _altitude(value: object, reference: object) -> float | None:
    metres = _number(value)
    if metres is None:
        return None
    # The reference is a BYTE: 1 means below sea level. Readers give it as bytes or int.
    below_sea_level = reference[:1] == b"\x01" if isinstance(reference, bytes) else reference == 1
    return round(-metres if below_sea_level else metres, 2)


def _number(value: object) -> float | None:
    """A finite float from an EXIF rational or number; None for 0/0, text and the like."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


# --- Pixels -----------------------------------------------------------------------------


def _dominant_colours(image: Image.Image) -> list[str]:
    small = image.copy()
    small.thumbnail((_SUMMARY_EDGE, _SUMMARY_EDGE), Image.Resampling.BOX)
    palette_image = small.quantize(colors=_DOMINANT_COLOURS, method=Image.Quantize.MEDIANCUT)
    palette = palette_image.getpalette() or []
    counts: dict[str, int] = {}
    for count, index in palette_image.getcolors() or []:
        if not isinstance(index, int):
            continue  # a palette image counts by index; anything else is not ours to read
        red, green, blue = palette[3 * index : 3 * index + 3]
        colour = f"#{red:02x}{green:02x}{blue:02x}"
        counts[colour] = counts.get(colour, 0) + count
    total = small.width * small.height
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [colour for colour, count in ranked if count >= _MINIMUM_SHARE * total]


@cache
def _cosines() -> tuple[tuple[float, ...], ...]:
    """DCT-II basis: row u holds cos(pi * (2x + 1) * u / 2N) for the kept frequencies u."""
    n = _HASH_INPUT
    return tuple(
        tuple(math.cos(math.pi * (2 * x + 1) * u / (2 * n)) for x in range(n))
        for u in range(_HASH_FREQUENCIES)
    )


def _phash(image: Image.Image) -> str:
    """64-bit pHash: the 8x8 lowest DCT frequencies of a 32x32 grey image, against their median."""
    size = _HASH_INPUT
    grey = image.convert("L").resize((size, size), Image.Resampling.BOX, reducing_gap=2.0)
    pixels = grey.tobytes()
    rows = [pixels[y * size : (y + 1) * size] for y in range(size)]
    cosines = _cosines()
    # Separable 2-D DCT-II, computing only the kept frequencies: along rows, then columns.
    along_rows = [
        [sum(c * p for c, p in zip(basis, row, strict=True)) for basis in cosines] for row in rows
    ]
    coefficients = [
        sum(cosines[v][y] * along_rows[y][u] for y in range(size))
        for v in range(_HASH_FREQUENCIES)
        for u in range(_HASH_FREQUENCIES)
    ]
    median = statistics.median(coefficients)
    bits = 0
    for coefficient in coefficients:
        bits = (bits << 1) | (coefficient > median)
    return f"{bits:0{_HASH_FREQUENCIES**2 // 4}x}"
