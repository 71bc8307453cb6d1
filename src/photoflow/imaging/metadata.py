"""What a photo says about itself (EXIF), and what its pixels look like.

``read_metadata`` reads the header only: camera, lens, time and position come
from EXIF without decoding a pixel. EXIF is written by every vendor slightly
differently, so each field is read on its own and a malformed one is skipped,
never fatal. ``summarize_pixels`` / ``summarize_rendition`` describe the pixels
(dominant colours, a perceptual hash and a BlurHash placeholder); they are meant
for a small derivative such as the 256 px thumbnail, where they cost a few
milliseconds.

Dominant colours are the colours a person would name: an octree proposes up to
32 colours, those a viewer cannot tell apart (CIELAB, CIE76 ΔE under 12) are
merged, and the blends of two colours that anti-aliasing and JPEG leave along
edges are counted with the nearer of the two; what remains is ordered by the
share of the picture it covers.
"""

from __future__ import annotations

import heapq
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
from photoflow.imaging.placeholder import blurhash_of
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
_CANDIDATE_COLOURS = 32  # the octree's proposals, before alike colours are merged
# CIE76 ΔE (Euclidean distance in CIELAB) under which two colours read as one: about
# 2.3 is just noticeable side by side; shades a person names alike are within 10-12.
_ALIKE_DELTA_E = 12.0
# A colour this small lying on the line between two bigger ones is their blend: the edge
# pixels of a shape, anti-aliased or rung by JPEG, not a colour of its own. Resampling
# and JPEG mix colours in sRGB's numbers, so the line is straight there, not in CIELAB.
_BLEND_SHARE = 0.05
_BLEND_SLACK = 10.0  # how much longer than the straight line the path through a blend may be
_DOMINANT_COLOURS = 5
_MINIMUM_SHARE = 0.01  # colours covering less of the picture are not "dominant"
_SHARE_DIGITS = 3
# sRGB (D65) to CIE XYZ, rows X, Y, Z; and the D65 white point (IEC 61966-2-1).
_SRGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
_D65_WHITE = (0.95047, 1.0, 1.08883)
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
class DominantColour:
    colour: str  # "#rrggbb"
    share: float  # of the picture's area, 0 to 1, three decimals


@dataclass(frozen=True)
class PixelSummary:
    palette: list[DominantColour]  # at most five, the largest share first
    phash: str  # 64-bit DCT perceptual hash as 16 hex digits
    blurhash: str  # the picture's blurred likeness, a placeholder for pages (see placeholder)

    @property
    def dominant_colours(self) -> list[str]:
        """The palette's colours alone, in its order."""
        return [entry.colour for entry in self.palette]

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
    return PixelSummary(
        palette=_dominant_colours(rgb), phash=_phash(rgb), blurhash=blurhash_of(rgb)
    )


def summarize_rendition(data: bytes) -> PixelSummary:
    """``summarize_pixels`` of an encoded rendition (already upright), decoded at reduced scale."""
    image = open_checked(data, _RENDITION_LIMITS)
    # A JPEG decodes straight from its DCT at the smallest scale covering the summary size.
    image.draft("RGB", fitted_size(image.size, _SUMMARY_EDGE))
    with decoding(_RENDITION_LIMITS, image.format or "image"):
        image.load()
    return summarize_pixels(image)


# Two photos whose hashes differ in at most this many bits are taken for one photo
# uploaded twice. Chosen by the bench (python -m bench, "Near-duplicates") on 30
# generated photos, each with six near-copies: recompressed at quality 40, resized to
# a half and a quarter, cropped 3% all round, 8% off one side, 5% off two sides. At 10
# bits no two different photos (of 5,655 pairs) fall within and 17% of the near-copies
# fall outside, every one of them a crop (recompressed and resized copies are within 2
# bits); at 12 bits the first pair of different photos falls within (0.02%).
NEAR_DUPLICATE_DISTANCE = 10


def is_near_duplicate(a: str, b: str) -> bool:
    """Whether two perceptual hashes are close enough to be one photo, recompressed or resized."""
    return hamming_distance(a, b) <= NEAR_DUPLICATE_DISTANCE


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


@dataclass
class _Cluster:
    """Pixels of one colour: how many, their mean in CIELAB and in sRGB."""

    count: int
    lab: tuple[float, float, float]
    rgb: tuple[float, float, float]

    @property
    def hex(self) -> str:
        return "#" + "".join(f"{round(channel):02x}" for channel in self.rgb)

    def absorb(self, other: _Cluster) -> None:
        total = self.count + other.count
        self.lab = _weighted(self.lab, self.count, other.lab, other.count)
        self.rgb = _weighted(self.rgb, self.count, other.rgb, other.count)
        self.count = total


def _dominant_colours(image: Image.Image) -> list[DominantColour]:
    small = image.copy()
    small.thumbnail((_SUMMARY_EDGE, _SUMMARY_EDGE), Image.Resampling.BOX)
    quantized = small.quantize(colors=_CANDIDATE_COLOURS, method=Image.Quantize.FASTOCTREE)
    palette = quantized.getpalette() or []
    clusters = []
    for count, index in quantized.getcolors() or []:
        if not isinstance(index, int):
            continue  # a palette image counts by index; anything else is not ours to read
        rgb = (palette[3 * index], palette[3 * index + 1], palette[3 * index + 2])
        clusters.append(_Cluster(count, _lab(rgb), (float(rgb[0]), float(rgb[1]), float(rgb[2]))))
    clusters = _without_blends(_merged_alike(clusters))
    total = small.width * small.height
    ranked = sorted(clusters, key=lambda cluster: (-cluster.count, cluster.hex))
    return [
        DominantColour(cluster.hex, round(cluster.count / total, _SHARE_DIGITS))
        for cluster in ranked
        if cluster.count >= _MINIMUM_SHARE * total
    ][:_DOMINANT_COLOURS]


def _merged_alike(clusters: list[_Cluster]) -> list[_Cluster]:
    """Merge the two closest clusters while they are closer than ``_ALIKE_DELTA_E``.

    The pairs wait in a heap; a pair whose member has since been merged is skipped.
    """
    alive = dict(enumerate(clusters))
    pairs = [
        (math.dist(a.lab, b.lab), i, j)
        for i, a in alive.items()
        for j, b in alive.items()
        if i < j and math.dist(a.lab, b.lab) < _ALIKE_DELTA_E
    ]
    heapq.heapify(pairs)
    next_id = len(clusters)
    while pairs:
        _, i, j = heapq.heappop(pairs)
        if i not in alive or j not in alive:
            continue
        merged = alive.pop(i)
        merged.absorb(alive.pop(j))
        for k, other in alive.items():
            distance = math.dist(merged.lab, other.lab)
            if distance < _ALIKE_DELTA_E:
                heapq.heappush(pairs, (distance, k, next_id))
        alive[next_id] = merged
        next_id += 1
    return list(alive.values())


def _without_blends(clusters: list[_Cluster]) -> list[_Cluster]:
    """Count each small cluster lying between two bigger ones with the nearer of the two.

    Only its pixels move: the colours of the two stay their own.
    """
    kept = sorted(clusters, key=lambda cluster: cluster.count, reverse=True)
    total = sum(cluster.count for cluster in kept)
    for blend in sorted(kept, key=lambda cluster: cluster.count):
        if blend.count >= _BLEND_SHARE * total:
            break
        ends = _blended_from(blend, [c for c in kept if c.count > blend.count])
        if ends is not None:
            nearer = min(ends, key=lambda end: math.dist(end.lab, blend.lab))
            nearer.count += blend.count
            kept.remove(blend)
    return kept


def _blended_from(blend: _Cluster, bigger: list[_Cluster]) -> tuple[_Cluster, _Cluster] | None:
    for i, a in enumerate(bigger):
        for b in bigger[i + 1 :]:
            detour = math.dist(a.rgb, blend.rgb) + math.dist(blend.rgb, b.rgb)
            if detour - math.dist(a.rgb, b.rgb) <= _BLEND_SLACK:
                return a, b
    return None


def _weighted(
    a: tuple[float, float, float], a_count: int, b: tuple[float, float, float], b_count: int
) -> tuple[float, float, float]:
    total = a_count + b_count
    return (
        (a[0] * a_count + b[0] * b_count) / total,
        (a[1] * a_count + b[1] * b_count) / total,
        (a[2] * a_count + b[2] * b_count) / total,
    )


def _lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """An sRGB colour in CIELAB (D65)."""
    linear = [_linear(channel / 255) for channel in rgb]
    x, y, z = (
        _lab_f(sum(m * c for m, c in zip(row, linear, strict=True)) / white)
        for row, white in zip(_SRGB_TO_XYZ, _D65_WHITE, strict=True)
    )
    return 116 * y - 16, 500 * (x - y), 200 * (y - z)


def _linear(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def _lab_f(t: float) -> float:
    delta = 6 / 29
    return t ** (1 / 3) if t > delta**3 else t / (3 * delta**2) + 4 / 29


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
