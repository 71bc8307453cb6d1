"""What the imaging core agrees to open: a byte cap, a pixel cap and a format list.

Callers build one ``Limits`` from their configuration; nothing here has a default
for the caps, so the deployed values live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "HEIF")


@dataclass(frozen=True)
class Limits:
    """Caps checked before any pixel is decoded.

    ``formats`` are Pillow format names; pi-heif registers HEIC/HEIF files as "HEIF".
    """

    max_bytes: int
    max_pixels: int
    formats: tuple[str, ...] = DEFAULT_FORMATS

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")
        if self.max_pixels <= 0:
            raise ValueError(f"max_pixels must be positive, got {self.max_pixels}")
        if not self.formats:
            raise ValueError("formats must name at least one image format")
        for name in self.formats:
            if not name or name != name.upper():
                raise ValueError(f"formats are upper-case Pillow format names, got {name!r}")
