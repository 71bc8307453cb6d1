"""Photos for the tests, generated in memory: the public samples plus hostile inputs.

No binary fixtures: every photo is drawn by ``photoflow_local.samples``, the generator
of the development tools (it also makes the demo photos in events/photos and the soak's
photos), never by the shipped ``photoflow`` package; so a test states the photo it needs.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from PIL import Image

from photoflow.imaging import Limits
from photoflow_local.samples import (
    TOP_LEFT_MARKER,
    TOP_RIGHT_MARKER,
    TRANSPARENT_KEY,
    make_photo,
    marker_size,
    render_scene,
    transparent_box,
    truncated_jpeg,
)

__all__ = [
    "ASCII",
    "GENEROUS",
    "LONG",
    "RATIONAL",
    "SHORT",
    "TOP_LEFT_MARKER",
    "TOP_RIGHT_MARKER",
    "TRANSPARENT_KEY",
    "ascii_value",
    "decode",
    "decompression_bomb_png",
    "encode",
    "exif_block",
    "grey_profile",
    "make_photo",
    "marker_size",
    "patch_colour",
    "rationals",
    "render_scene",
    "rgb_profile",
    "swapped_primaries_profile",
    "transparent_box",
    "truncated_jpeg",
]

# Caps far above any test photo, for tests that are not about the caps.
GENEROUS = Limits(max_bytes=64 * 10**6, max_pixels=64 * 10**6)

# TIFF field types used in hand-written EXIF.
ASCII, SHORT, LONG, RATIONAL = 2, 3, 4, 5


def decompression_bomb_png(width: int, height: int) -> bytes:
    """A valid-looking PNG of about 1 KB whose IHDR declares ``width`` x ``height`` RGB.

    Only the first rows of pixel data are present: decoding it would allocate the
    full declared size (50000x50000 RGB is 7.5 GB) before noticing.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    row = b"\x00" * (1 + 3 * width)  # filter byte + black pixels
    rows = max(1, min(height, 1_000_000 // len(row)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * rows, 9))
        + chunk(b"IEND", b"")
    )


def encode(image: Image.Image, fmt: str = "JPEG", **options: Any) -> bytes:
    """Encode an image the test drew itself."""
    buffer = BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    """Fully decode an output, for looking at its pixels."""
    image = Image.open(BytesIO(data))
    image.load()
    return image


def patch_colour(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The mean colour of a region: single pixels of a JPEG are too noisy to compare."""
    region = image.convert("RGB").crop(box).resize((1, 1), Image.Resampling.BOX)
    red, green, blue = region.getpixel((0, 0))
    return red, green, blue


def exif_block(
    ifd0: Sequence[tuple[int, int, int, bytes]],
    gps: Sequence[tuple[int, int, int, bytes]] = (),
    *,
    gps_offset: int | None = None,
) -> bytes:
    """Hand-written EXIF (APP1 payload), for values Pillow's writer refuses to produce.

    Entries are (tag, TIFF type, count, big-endian value bytes). A GPS IFD is linked
    from IFD0 when ``gps`` is given, or ``gps_offset`` forces where the link points.
    """

    def ifd(entries: Sequence[tuple[int, int, int, bytes]], start: int) -> bytes:
        data_start = start + 2 + 12 * len(entries) + 4
        table, data = struct.pack(">H", len(entries)), b""
        for tag, kind, count, value in sorted(entries):
            if len(value) <= 4:
                table += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\x00")
            else:
                table += struct.pack(">HHII", tag, kind, count, data_start + len(data))
                data += value + b"\x00" * (len(value) % 2)
        return table + struct.pack(">I", 0) + data

    first = list(ifd0)
    if gps or gps_offset is not None:
        first.append((0x8825, LONG, 1, b"\x00\x00\x00\x00"))  # placeholder, sized like the link
        link = gps_offset if gps_offset is not None else 8 + len(ifd(first, 8))
        first[-1] = (0x8825, LONG, 1, struct.pack(">I", link))
    body = ifd(first, 8)
    if gps:
        body += ifd(gps, 8 + len(body))
    return b"Exif\x00\x00" + b"MM\x00*" + struct.pack(">I", 8) + body


def ascii_value(text: str) -> tuple[int, bytes]:
    raw = text.encode() + b"\x00"
    return len(raw), raw


def rationals(*values: tuple[int, int]) -> bytes:
    return b"".join(struct.pack(">II", numerator, denominator) for numerator, denominator in values)


# sRGB's primaries and white point as an ICC profile states them (adapted to D50).
SRGB_PRIMARIES = {
    "red": (0.4361, 0.2225, 0.0139),
    "green": (0.3851, 0.7169, 0.0971),
    "blue": (0.1431, 0.0606, 0.7141),
}
D50_WHITE = (0.9642, 1.0, 0.8249)


def rgb_profile(
    description: str,
    red: tuple[float, float, float],
    green: tuple[float, float, float],
    blue: tuple[float, float, float],
    gamma: float = 2.2,
) -> bytes:
    """A minimal ICC v2 RGB display profile (matrix and gamma curves), written by hand.

    Pillow can only create sRGB, Lab and XYZ profiles; a test of colour conversion
    needs an RGB profile that is not sRGB.
    """

    tags = {
        b"desc": _icc_description(description),
        b"wtpt": _icc_xyz(D50_WHITE),
        b"rXYZ": _icc_xyz(red),
        b"gXYZ": _icc_xyz(green),
        b"bXYZ": _icc_xyz(blue),
        b"rTRC": b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + b"\x00\x00",
    }
    tags[b"gTRC"] = tags[b"bTRC"] = tags[b"rTRC"]
    return _icc_profile(b"RGB ", tags)


def grey_profile(description: str, gamma: float | None = 1.0) -> bytes:
    """A minimal ICC v2 grey display profile: a gamma curve (none at all with ``None``)."""
    tags = {
        b"desc": _icc_description(description),
        b"wtpt": _icc_xyz(D50_WHITE),
    }
    if gamma is not None:
        tags[b"kTRC"] = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256))
    return _icc_profile(b"GRAY", tags)


def _icc_xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def _icc_description(description: str) -> bytes:
    text = description.encode("ascii") + b"\x00"
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(text))
        + text
        + b"\x00" * 8  # no Unicode description
        + b"\x00" * 3
        + b"\x00" * 67  # no ScriptCode description
    )


def _icc_profile(colour_space: bytes, tags: dict[bytes, bytes]) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset, table, data = 128 + table_size, b"", b""
    for signature, payload in tags.items():
        padded = payload + b"\x00" * (-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(padded))
        data += padded
    size = 128 + table_size + len(data)
    header = (
        struct.pack(">I", size)
        + b"\x00\x00\x00\x00"  # preferred CMM
        + b"\x02\x10\x00\x00"  # version 2.1
        + b"mntr"
        + colour_space
        + b"XYZ "
        + b"\x00" * 12  # creation date
        + b"acsp"
        + b"\x00" * 24  # platform, flags, manufacturer, model, attributes
        + b"\x00\x00\x00\x00"  # perceptual intent
        + b"".join(struct.pack(">i", round(v * 65536)) for v in D50_WHITE)
        + b"\x00" * 48  # creator, profile id, reserved
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def swapped_primaries_profile() -> bytes:
    """An RGB profile whose red and blue primaries are swapped: red pixels mean blue."""
    return rgb_profile(
        "Swapped red and blue",
        red=SRGB_PRIMARIES["blue"],
        green=SRGB_PRIMARIES["green"],
        blue=SRGB_PRIMARIES["red"],
    )
