"""The S3 key scheme: names that stay in their folder, stable ids and execution names."""

import re

import pytest

from photoflow.keys import (
    InvalidKey,
    execution_name,
    new_photo_id,
    photo_id_for_key,
    safe_name,
    upload_key,
)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("holiday.jpg", "holiday.jpg"),
        ("my photo (1).jpg", "my_photo_1_.jpg"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.jpg", "evil.jpg"),
        ("/absolute/path.png", "path.png"),
        ("a+b c.jpg", "a_b_c.jpg"),
        ("été à Paris.jpg", "été_à_Paris.jpg"),
        ("", "photo"),
        ("...", "photo"),
        (".hidden.jpg", "hidden.jpg"),
        (None, "photo"),
    ],
)
def test_safe_name_keeps_names_inside_their_folder(filename: str | None, expected: str) -> None:
    assert safe_name(filename) == expected


def test_safe_name_bounds_length_and_keeps_the_extension() -> None:
    name = safe_name("x" * 500 + ".jpeg")
    assert len(name) <= 120
    assert name.endswith(".jpeg")


def test_upload_key_is_under_the_photos_folder() -> None:
    photo_id = new_photo_id()
    key = upload_key(photo_id, "../../../derivatives/x.jpg")
    assert key == f"uploads/{photo_id}/x.jpg"
    assert photo_id_for_key(key) == photo_id


def test_upload_key_refuses_an_id_that_is_not_one() -> None:
    with pytest.raises(InvalidKey):
        upload_key("../x", "a.jpg")


def test_keys_put_without_the_api_get_a_stable_id() -> None:
    first = photo_id_for_key("uploads/some folder/a.jpg")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert photo_id_for_key("uploads/some folder/a.jpg") == first
    assert photo_id_for_key("uploads/other.jpg") != first


def test_keys_outside_uploads_are_refused() -> None:
    with pytest.raises(InvalidKey):
        photo_id_for_key("derivatives/x/thumbnails/256.jpg")


def test_execution_names_are_deterministic_per_object_version_and_valid() -> None:
    photo_id = new_photo_id()
    key = f"uploads/{photo_id}/a.jpg"
    name = execution_name("bucket", key, "v1")
    assert name == execution_name("bucket", key, "v1")
    assert name != execution_name("bucket", key, "v2")
    assert len(name) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert photo_id in name
