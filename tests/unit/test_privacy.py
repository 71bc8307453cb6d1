"""Privacy: no derivative carries the original's metadata; the location is kept only on request."""

from __future__ import annotations

from datetime import datetime

import pytest
from PIL import ExifTags, ImageCms, PngImagePlugin

from photoflow.config import MetadataConfig
from photoflow.imaging import ModernFormat, Rendition, apply_filters, make_thumbnail_set
from photoflow.steps import describe_bytes
from tests.photos import GENEROUS, decode, encode, make_photo

XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    'syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
    ' photoshop:City="Valparaiso" photoshop:Credit="Ana Perez"/></rdf:RDF></x:xmpmeta>'
)
# Bytes that betray the original's metadata if any of it survived into a derivative.
TELLTALES = (b"Exif", b"xmpmeta", b"Valparaiso", b"Ana Perez", b"Canon", b"EOS R5", b"RF50mm")
LATITUDE, LONGITUDE, ALTITUDE = -33.0472, -71.6127, 41.0
ENVIRONMENT = {
    "THUMBNAIL_SIZES": "512,128",
    "FILTERS": "grayscale,sepia,blur,sharpen",
    "FILTER_MAX_EDGE": "512",
    "MAX_PHOTO_BYTES": "10000000",
    "MAX_PIXELS": "10000000",
    "JPEG_QUALITY": "85",
}


def personal_photo(fmt: str) -> bytes:
    """A photo that says who took it, with what, where and when: EXIF, GPS, XMP, ICC."""
    camera = make_photo(
        900,
        600,
        gps=(LATITUDE, LONGITUDE, ALTITUDE),
        lens="RF50mm F1.2",
        taken_at=datetime(2025, 2, 14, 9, 30, 0),
        seed=21,
    )
    image = decode(camera)
    exif = image.info["exif"]
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_itxt("XML:com.adobe.xmp", XMP)
        return encode(image, "PNG", exif=exif, icc_profile=profile, pnginfo=text)
    return encode(image, fmt, exif=exif, xmp=XMP.encode(), icc_profile=profile, quality=90)


def every_derivative(data: bytes) -> list[Rendition]:
    """Every kind of file the workflow writes: JPEG, WebP and AVIF thumbnails, the square,
    the filtered copies."""
    made = make_thumbnail_set(
        data,
        [512, 128],
        GENEROUS,
        square=96,
        modern=[ModernFormat("webp", 80, 2), ModernFormat("avif", 60, 8)],
    )
    assert made.square is not None
    return [
        *made.thumbnails,
        made.square,
        *made.modern,
        *apply_filters(data, ["grayscale", "sepia", "blur", "sharpen"], 512, GENEROUS),
    ]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_the_generated_photo_carries_every_kind_of_personal_metadata(fmt: str) -> None:
    # Guards the next test: it proves nothing if the input had nothing to leak
    data = personal_photo(fmt)
    image = decode(data)

    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert image.getexif()[ExifTags.Base.Make] == "Canon"
    assert "Valparaiso" in str(image.info.get("xmp") or image.info.get("XML:com.adobe.xmp"))
    assert image.info.get("icc_profile")
    assert all(telltale in data for telltale in (b"xmpmeta", b"Valparaiso", b"Canon"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_no_derivative_carries_exif_gps_xmp_or_a_profile(fmt: str) -> None:
    renditions = every_derivative(personal_photo(fmt))

    assert sorted({r.content_type for r in renditions}) == [
        "image/avif",
        "image/jpeg",
        "image/webp",
    ]
    assert len(renditions) == 11
    for rendition in renditions:
        output = decode(rendition.data)
        assert len(output.getexif()) == 0, rendition.name
        assert output.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(
            output.info
        ), (rendition.name, sorted(output.info))
        leaked = [telltale for telltale in TELLTALES if telltale in rendition.data]
        assert leaked == [], (rendition.name, rendition.content_type, leaked)


def metadata_config(keep_location: str) -> MetadataConfig:
    return MetadataConfig.model_validate({**ENVIRONMENT, "KEEP_LOCATION": keep_location})


def test_the_location_is_dropped_from_the_metadata_by_default_setting() -> None:
    metadata = describe_bytes(personal_photo("JPEG"), metadata_config("false"))["metadata"]

    assert metadata["gps"] is None
    # Only the location goes: the camera and the time are not where someone lives
    assert metadata["camera"] == {"make": "Canon", "model": "EOS R5", "lens": "RF50mm F1.2"}
    assert metadata["takenAt"] == "2025-02-14T09:30:00"


def test_the_location_is_kept_when_the_deployment_asks() -> None:
    metadata = describe_bytes(personal_photo("JPEG"), metadata_config("true"))["metadata"]

    assert metadata["gps"] == {"latitude": -33.0472, "longitude": -71.6127, "altitude": 41.0}


@pytest.mark.parametrize("value", ["", "yes please", "2"])
def test_keep_location_must_say_true_or_false(value: str) -> None:
    with pytest.raises(ValueError, match="KEEP_LOCATION"):
        metadata_config(value)


def test_keep_location_has_no_default() -> None:
    with pytest.raises(ValueError, match="KEEP_LOCATION"):
        MetadataConfig.model_validate(ENVIRONMENT)
