"""Regenerate the sample photos in this folder: ``python events/photos/generate.py``.

The photos are drawn by ``photoflow.imaging.samples`` (install the project first,
e.g. ``make setup``), so they are deterministic, small, and show no real place or
person. Running the script again rewrites the same bytes.

- harbour.jpg   1600x1067, camera and lens EXIF, GPS south and west (negative lat/lon)
- portrait.jpg  1200x1600 as seen, stored 1600x1200 with EXIF orientation 6
- logo.png      400x300 palette image with a transparent bottom quarter
- sunset.webp   1024x683 WebP
- corrupt.jpg   the first 2 KB of a JPEG: a readable header, then nothing
"""

from __future__ import annotations

from pathlib import Path

from photoflow_local.samples import write_samples


def main() -> None:
    for path in write_samples(Path(__file__).resolve().parent):
        print(f"{path.name:14} {path.stat().st_size:>8,} bytes")  # noqa: T201


if __name__ == "__main__":
    main()
