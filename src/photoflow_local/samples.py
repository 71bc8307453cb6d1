"""Synthetic sample photos for demos, tests and benchmarks.

The photos are drawn, not shot: a gradient sky, overlapping shapes and a fine
grain, so that JPEG encoders, resamplers and perceptual hashes behave as they do
on real photos, while nobody's face or location ends up in the repository.
Everything is deterministic for a given ``seed``.

Every scene carries two markers that make orientation visible: a red square in
the top-left corner and a blue square in the top-right corner of the photo as a
viewer should see it. With an EXIF ``orientation``, the pixels are stored
rotated/mirrored the way a camera would store them, so only a reader that
honours the orientation gets the markers back in the top corners.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, ImageChops, ImageDraw
from PIL.TiffImagePlugin import IFDRational

TOP_LEFT_MARKER = (255, 0, 0)
TOP_RIGHT_MARKER = (0, 0, 255)
# Colour of the palette entry marked transparent in mode "P": garish on purpose, so a
# reader that ignores transparency shows it instead of the background it should composite on.
TRANSPARENT_KEY = (255, 0, 255)

# The transposition that stores an upright scene so that the EXIF orientation restores it:
# the inverse of what ImageOps.exif_transpose applies for each orientation.
_STORE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
_EXIF_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF", "HEIF"})
_LOSSY_FORMATS = frozenset({"JPEG", "WEBP", "HEIF"})
_GRAIN_TILE = 256
_GRAIN_AMPLITUDE = 8


def marker_size(width: int, height: int) -> int:
    """Side of the square corner markers for a scene of this size."""
    return max(2, min(width, height) // 12)


def transparent_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The region (left, top, right, bottom) left fully transparent in modes with alpha."""
    return (0, height * 3 // 4, width, height)


def render_scene(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """An upright RGB scene: gradient, shapes, grain and the two corner markers."""
    if width <= 0 or height <= 0:
        raise ValueError(f"scene size must be positive, got {width}x{height}")
    rng = random.Random(seed)
    scene = _gradient(width, height, rng)
    _draw_shapes(scene, rng)
    scene = _add_grain(scene, rng)
    side = marker_size(width, height)
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 0, side - 1, side - 1), fill=TOP_LEFT_MARKER)
    draw.rectangle((width - side, 0, width - 1, side - 1), fill=TOP_RIGHT_MARKER)
    return scene


def make_photo(
    width: int,
    height: int,
    *,
    fmt: str = "JPEG",
    mode: str = "RGB",
    orientation: int | None = None,
    exif_camera: tuple[str, str] | None = ("Canon", "EOS R5"),
    gps: tuple[float, float] | tuple[float, float, float] | None = None,
    lens: str | None = None,
    taken_at: datetime | None = None,
    quality: int = 90,
    frames: int = 1,
    seed: int = 0,
) -> bytes:
    """Encode a synthetic photo that looks ``width`` x ``height`` to a viewer.

    ``mode`` is the stored pixel mode: "RGB", "L", "CMYK", "RGBA", "LA", "P" (palette
    with a transparent entry), or "I;16" (16-bit grey). Modes with alpha leave
    ``transparent_box`` fully transparent. ``gps`` is (latitude, longitude[, altitude])
    in signed decimal degrees. Frames after the first are scenes of the following seeds.
    EXIF is written for the formats that carry it (not GIF or BMP).
    """
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    images = [_in_mode(render_scene(width, height, seed=seed + i), mode) for i in range(frames)]
    if orientation is not None and orientation != 1:
        if orientation not in _STORE_FOR_ORIENTATION:
            raise ValueError(f"EXIF orientation is 1..8, got {orientation}")
        method = _STORE_FOR_ORIENTATION[orientation]
        images = [image.transpose(method) for image in images]

    options: dict[str, Any] = {}
    fmt = fmt.upper()
    if fmt in _LOSSY_FORMATS:
        options["quality"] = quality
    if mode == "P":
        options["transparency"] = 255
    if frames > 1:
        options.update(save_all=True, append_images=images[1:])
        if fmt in ("GIF", "PNG", "WEBP"):
            options.update(duration=120, loop=0)
    if fmt in _EXIF_FORMATS:
        exif = _exif(exif_camera, orientation, gps, lens, taken_at)
        if exif is not None:
            options["exif"] = exif.tobytes()
    if fmt == "HEIF":
        return encode_heif(images, quality=quality, exif=options.get("exif"))
    buffer = BytesIO()
    images[0].save(buffer, fmt, **options)
    return buffer.getvalue()


def encode_heif(
    images: Sequence[Image.Image],
    *,
    quality: int,
    exif: bytes | None = None,
    preset: str | None = None,
) -> bytes:
    """HEIC bytes of ``images`` (one per frame), made with pillow-heif's encoder.

    The functions decode HEIF with pi-heif, which has no encoder; pillow-heif's own API
    encodes here without registering its plugin, so Pillow keeps opening HEIF files
    with the decoder that ships. ``preset`` is x265's (e.g. "ultrafast").
    """
    heif = pillow_heif.from_pillow(images[0])
    for frame in images[1:]:
        heif.add_from_pillow(frame)
    options: dict[str, Any] = {"quality": quality}
    if exif is not None:
        options["exif"] = exif
    if preset is not None:
        options["enc_params"] = {"preset": preset}
    buffer = BytesIO()
    heif.save(buffer, **options)
    return buffer.getvalue()


def truncated_jpeg(keep_bytes: int = 2048, *, seed: int = 0) -> bytes:
    """The first ``keep_bytes`` of a real JPEG: the header reads fine, the pixel data stops."""
    whole = make_photo(640, 480, quality=95, seed=seed)
    if keep_bytes >= len(whole):
        raise ValueError(f"keep_bytes must be under the {len(whole)} bytes of the whole JPEG")
    return whole[:keep_bytes]


def sample_photos() -> dict[str, bytes]:
    """The sample photos shipped in ``events/photos``, by file name."""
    return {
        # Valparaiso: southern and western hemisphere, so both coordinates are negative.
        "harbour.jpg": make_photo(
            1600,
            1067,
            gps=(-33.0381, -71.6290, 12.5),
            exif_camera=("Canon", "EOS R5"),
            lens="RF24-105mm F4 L IS USM",
            taken_at=datetime(2024, 3, 9, 18, 42, 5),
            quality=85,
            seed=11,
        ),
        "portrait.jpg": make_photo(
            1200,
            1600,
            orientation=6,
            exif_camera=("Apple", "iPhone 15 Pro"),
            taken_at=datetime(2024, 7, 21, 9, 15, 0),
            quality=85,
            seed=23,
        ),
        "logo.png": make_photo(400, 300, fmt="PNG", mode="P", exif_camera=None, seed=37),
        "sunset.webp": make_photo(1024, 683, fmt="WEBP", quality=80, seed=41),
        "corrupt.jpg": truncated_jpeg(2048, seed=53),
    }


def write_samples(directory: Path) -> list[Path]:
    """Write ``sample_photos()`` into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in sample_photos().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def _gradient(width: int, height: int, rng: random.Random) -> Image.Image:
    # The gradient's kind and direction vary with the seed: it dominates the low
    # frequencies, which is what makes different scenes hash far apart.
    if rng.random() < 0.25:
        mask = Image.radial_gradient("L")
    else:
        # Rotated with expand, then cut back to the square inscribed in any rotation.
        mask = Image.linear_gradient("L").rotate(
            rng.uniform(0, 360), resample=Image.Resampling.BILINEAR, expand=True
        )
        inset = (mask.width - 181) // 2
        mask = mask.crop((inset, inset, inset + 181, inset + 181))
    mask = mask.resize((width, height), Image.Resampling.BILINEAR)
    near = Image.new("RGB", (width, height), _colour(rng))
    far = Image.new("RGB", (width, height), _colour(rng))
    return Image.composite(far, near, mask)


def _draw_shapes(scene: Image.Image, rng: random.Random) -> None:
    width, height = scene.size
    draw = ImageDraw.Draw(scene)
    for _ in range(10 + rng.randrange(8)):
        left = rng.uniform(-0.1, 0.9) * width
        top = rng.uniform(-0.1, 0.9) * height
        box = (
            left,
            top,
            left + rng.uniform(0.05, 0.45) * width,
            top + rng.uniform(0.05, 0.45) * height,
        )
        colour = _colour(rng)
        kind = rng.randrange(4)
        if kind == 0:
            draw.ellipse(box, fill=colour)
        elif kind == 1:
            draw.rectangle(box, fill=colour, outline=_colour(rng), width=max(1, width // 300))
        elif kind == 2:
            points = [
                (rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3]))
                for _ in range(3 + rng.randrange(4))
            ]
            draw.polygon(points, fill=colour)
        else:
            draw.line([(box[0], box[1]), (box[2], box[3])], fill=colour, width=max(1, width // 120))


def _add_grain(scene: Image.Image, rng: random.Random) -> Image.Image:
    # A tiled grain keeps 12 MP scenes quick to draw; encoders only need it to be there.
    amplitude = _GRAIN_AMPLITUDE
    to_grain = bytes(value % (2 * amplitude + 1) for value in range(256))
    noise = rng.randbytes(_GRAIN_TILE * _GRAIN_TILE * 3).translate(to_grain)
    tile = Image.frombytes("RGB", (_GRAIN_TILE, _GRAIN_TILE), noise)
    grain = Image.new("RGB", scene.size)
    for top in range(0, scene.height, _GRAIN_TILE):
        for left in range(0, scene.width, _GRAIN_TILE):
            grain.paste(tile, (left, top))
    return ImageChops.add(scene, grain, scale=1.0, offset=-amplitude)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(30, 226), rng.randrange(30, 226), rng.randrange(30, 226))


def _in_mode(scene: Image.Image, mode: str) -> Image.Image:
    if mode == "RGB":
        return scene
    if mode in ("L", "CMYK"):
        return scene.convert(mode)
    if mode in ("RGBA", "LA"):
        image = scene.convert(mode)
        alpha = Image.new("L", scene.size, 255)
        alpha.paste(0, transparent_box(*scene.size))
        image.putalpha(alpha)
        return image
    if mode == "P":
        # 255 colours from the scene, the 256th reserved for the transparent area.
        image = scene.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        palette = (image.getpalette() or [])[: 255 * 3]
        palette += [0] * (255 * 3 - len(palette))
        image.putpalette(palette + list(TRANSPARENT_KEY))
        image.paste(255, transparent_box(*scene.size))
        return image
    if mode == "I;16":
        return scene.convert("L").convert("I").point(lambda value: value * 257).convert("I;16")
    raise ValueError(f"unsupported sample mode {mode!r}")


def _exif(
    camera: tuple[str, str] | None,
    orientation: int | None,
    gps: Sequence[float] | None,
    lens: str | None,
    taken_at: datetime | None,
) -> Image.Exif | None:
    if camera is None and orientation is None and gps is None and lens is None and taken_at is None:
        return None
    exif = Image.Exif()
    if camera is not None:
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = camera
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[ExifTags.Base.DateTime] = stamp
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = stamp
        offset = taken_at.strftime("%z")
        if offset:
            details[ExifTags.Base.OffsetTimeOriginal] = f"{offset[:3]}:{offset[3:]}"
    if lens is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.LensModel] = lens
    if gps is not None:
        position = exif.get_ifd(ExifTags.IFD.GPSInfo)
        latitude, longitude = gps[0], gps[1]
        position[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        position[ExifTags.GPS.GPSLatitudeRef] = "N" if latitude >= 0 else "S"
        position[ExifTags.GPS.GPSLatitude] = _degrees_minutes_seconds(latitude)
        position[ExifTags.GPS.GPSLongitudeRef] = "E" if longitude >= 0 else "W"
        position[ExifTags.GPS.GPSLongitude] = _degrees_minutes_seconds(longitude)
        if len(gps) > 2:
            altitude = gps[2]
            position[ExifTags.GPS.GPSAltitudeRef] = b"\x00" if altitude >= 0 else b"\x01"
            position[ExifTags.GPS.GPSAltitude] = IFDRational(round(abs(altitude) * 100), 100)
    return exif


def _degrees_minutes_seconds(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return (
        IFDRational(degrees, 1),
        IFDRational(minutes, 1),
        IFDRational(round(seconds * 10000), 10000),
    )
