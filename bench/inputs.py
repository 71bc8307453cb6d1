"""The benchmark's photos: drawn by the sample generator, the same bytes on every run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from PIL import Image

from photoflow_local import samples

QUALITY = 90  # a camera's usual JPEG quality
# Camera and phone JPEGs of 12 MP at this quality are typically 1.5 to 6 MB: 1 to 4 bits a pixel.
PHOTO_LIKE_BITS_PER_PIXEL = (1.0, 4.0)
STACK_PHOTO_SIZE = (1600, 1200)  # 1.9 MP: a hundred of them go through the local stack
STACK_DISTINCT_PHOTOS = 8


@dataclass(frozen=True)
class BenchPhoto:
    label: str
    fmt: str
    width: int
    height: int
    data: bytes
    note: str = ""

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    @property
    def bits_per_pixel(self) -> float:
        return len(self.data) * 8 / (self.width * self.height)


def _camera_photo(width: int, height: int, fmt: str, seed: int) -> bytes:
    return samples.make_photo(
        width,
        height,
        fmt=fmt,
        quality=QUALITY,
        exif_camera=("Canon", "EOS R5"),
        lens="RF24-105mm F4 L IS USM",
        taken_at=datetime(2024, 3, 9, 18, 42, 5),
        gps=(-33.0381, -71.6290, 12.5),
        seed=seed,
    )


def _heic(width: int, height: int, seed: int) -> bytes:
    # make_photo(fmt="HEIF") encodes with x265's default preset: about 30 s for 12 MP here.
    # The same scene and EXIF, encoded with the "ultrafast" preset, decodes the same way.
    exif = Image.open(BytesIO(_camera_photo(64, 48, "JPEG", seed))).info["exif"]
    scene = samples.render_scene(width, height, seed=seed)
    return samples.encode_heif([scene], quality=QUALITY, exif=exif, preset="ultrafast")


def imaging_photos() -> list[BenchPhoto]:
    """12 and 24 MP JPEGs (the measured targets), and a PNG, a WebP and a HEIC of 12 MP."""
    return [
        BenchPhoto("12 MP JPEG", "JPEG", 4000, 3000, _camera_photo(4000, 3000, "JPEG", 1)),
        BenchPhoto("24 MP JPEG", "JPEG", 6000, 4000, _camera_photo(6000, 4000, "JPEG", 2)),
        BenchPhoto(
            "12 MP PNG",
            "PNG",
            4000,
            3000,
            _camera_photo(4000, 3000, "PNG", 3),
            "tiled grain deflates far better than a real photo's",
        ),
        BenchPhoto("12 MP WebP", "WEBP", 4000, 3000, _camera_photo(4000, 3000, "WEBP", 4)),
        BenchPhoto("12 MP HEIC", "HEIF", 4000, 3000, _heic(4000, 3000, 5), "x265 preset ultrafast"),
    ]


def stack_photos() -> list[bytes]:
    """A few distinct photos that the local-stack batch cycles through."""
    width, height = STACK_PHOTO_SIZE
    return [
        _camera_photo(width, height, "JPEG", 100 + seed) for seed in range(STACK_DISTINCT_PHOTOS)
    ]
