"""The synthetic samples, and the demo photos in events/photos that are made from them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from photoflow.imaging import CorruptImage, make_thumbnails, probe, read_metadata
from photoflow_local.samples import make_photo, render_scene, sample_photos, truncated_jpeg
from tests.photos import GENEROUS

EVENT_PHOTOS = Path(__file__).resolve().parents[2] / "events" / "photos"


def event_photo(name: str) -> bytes:
    return (EVENT_PHOTOS / name).read_bytes()


def test_samples_are_deterministic() -> None:
    assert sample_photos() == sample_photos()
    assert render_scene(64, 48, seed=3).tobytes() == render_scene(64, 48, seed=3).tobytes()
    assert render_scene(64, 48, seed=3).tobytes() != render_scene(64, 48, seed=4).tobytes()


@pytest.mark.parametrize("name", sorted(sample_photos()))
def test_every_sample_is_committed_and_small(name: str) -> None:
    assert (EVENT_PHOTOS / name).is_file(), "run: python events/photos/generate.py"
    assert len(event_photo(name)) < 300 * 1024


def test_harbour_is_a_geotagged_photo_in_the_south_west() -> None:
    metadata = read_metadata(event_photo("harbour.jpg"), GENEROUS)

    assert (metadata.format, metadata.width, metadata.height) == ("JPEG", 1600, 1067)
    assert metadata.orientation == 1
    assert metadata.camera_make == "Canon"
    assert metadata.gps is not None
    assert metadata.gps.latitude < 0 and metadata.gps.longitude < 0


def test_portrait_is_stored_landscape_with_orientation_6() -> None:
    data = event_photo("portrait.jpg")
    header = probe(data, GENEROUS)

    assert (header.width, header.height, header.orientation) == (1200, 1600, 6)
    with Image.open(EVENT_PHOTOS / "portrait.jpg") as stored:
        assert stored.size == (1600, 1200)


def test_logo_is_a_palette_png_with_transparency() -> None:
    with Image.open(EVENT_PHOTOS / "logo.png") as logo:
        assert (logo.format, logo.mode, logo.size) == ("PNG", "P", (400, 300))
        assert "transparency" in logo.info


def test_sunset_is_a_webp() -> None:
    header = probe(event_photo("sunset.webp"), GENEROUS)

    assert (header.format, header.width, header.height) == ("WEBP", 1024, 683)


def test_corrupt_sample_has_a_good_header_and_broken_pixels() -> None:
    data = event_photo("corrupt.jpg")

    assert len(data) == 2048
    assert probe(data, GENEROUS).format == "JPEG"
    with pytest.raises(CorruptImage):
        make_thumbnails(data, [256], GENEROUS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: render_scene(0, 10), "positive"),
        (lambda: make_photo(10, 10, frames=0), "frames"),
        (lambda: make_photo(10, 10, orientation=9), "orientation"),
        (lambda: make_photo(10, 10, mode="YCbCr"), "mode"),
        (lambda: truncated_jpeg(10**9), "keep_bytes"),
    ],
)
def test_sample_arguments_are_checked(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_the_shipped_package_draws_no_photos() -> None:
    # Test photos come from the development tools' generator; the package every Lambda
    # function imports neither contains one nor reaches for one
    shipped = Path(__file__).resolve().parents[2] / "src" / "photoflow"
    sources = {
        path.relative_to(shipped).as_posix(): path.read_text() for path in shipped.rglob("*.py")
    }

    assert "imaging/samples.py" not in sources
    assert [name for name, text in sources.items() if "photoflow_local" in text] == []
    assert [name for name, text in sources.items() if "ImageDraw" in text] == []
