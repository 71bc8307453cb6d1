"""The S3 key scheme: names that stay in their folder, stable ids and execution names."""

import re

import pytest

from photoflow.keys import (
    InvalidKey,
    derivative_key,
    execution_name,
    new_photo_id,
    photo_id_for_key,
    safe_name,
    upload_key,
)

PHOTO_ID = "0123456789abcdef0123456789abcdef"


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
        # Decomposed accents (as macOS writes names) are composed: one key per name.
        ("e\u0301te\u0301.jpg", "\u00e9t\u00e9.jpg"),
        ("Xmas tree.jpg", "Xmas_tree.jpg"),
        ("", "photo"),
        ("...", "photo"),
        (".hidden.jpg", "hidden.jpg"),
        ("_draft_.jpg_", "draft_.jpg"),
        (None, "photo"),
    ],
)
def test_safe_name_keeps_names_inside_their_folder(filename: str | None, expected: str) -> None:
    assert safe_name(filename) == expected


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        # At the limit (120 characters), a name is kept whole; one more and it is cut.
        ("x" * 116 + ".jpg", "x" * 116 + ".jpg"),
        ("x" * 117 + ".jpg", "x" * 116 + ".jpg"),
        ("x" * 500 + ".jpeg", "x" * 115 + ".jpeg"),
        # An extension of up to 10 characters survives the cut...
        ("x" * 200 + ".abcdefghij", "x" * 109 + ".abcdefghij"),
        # ...a longer "extension" is just part of the name, cut like the rest.
        ("x" * 200 + ".abcdefghijk", "x" * 120),
        ("a." + "x" * 500, "a." + "x" * 118),
        # the extension is what follows the last dot
        ("holiday." + "x" * 200 + ".jpeg", "holiday." + "x" * 107 + ".jpeg"),
        ("y" * 130, "y" * 120),
    ],
)
def test_long_names_are_cut_to_120_characters_keeping_a_short_extension(
    filename: str, expected: str
) -> None:
    name = safe_name(filename)

    assert name == expected
    assert len(name) <= 120


def test_upload_key_is_under_the_photos_folder() -> None:
    key = upload_key(PHOTO_ID, "../../../derivatives/x.jpg")

    assert key == "uploads/0123456789abcdef0123456789abcdef/x.jpg"
    assert photo_id_for_key(key) == PHOTO_ID


def test_new_photo_ids_are_fresh_ids() -> None:
    first, second = new_photo_id(), new_photo_id()

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    assert upload_key(first, "a.jpg") == f"uploads/{first}/a.jpg"


def test_upload_key_refuses_an_id_that_is_not_one() -> None:
    with pytest.raises(InvalidKey) as refused:
        upload_key("../x", "a.jpg")

    assert str(refused.value) == "not a photo id: '../x'"


@pytest.mark.parametrize(
    ("key", "photo_id"),
    [
        ("uploads/some folder/a.jpg", "3112b56dc35ee7162d16cfa0976193ce"),
        ("uploads/loose-photo.jpg", "88a8dcd776d1688714bdbc3f81a55ff4"),
        # A photo id with nothing under it is not a photo's folder.
        (f"uploads/{PHOTO_ID}", "3bb1be05762df8f24cb01ca1a46c07fe"),
        # The first folder is the photo's, whatever lies deeper.
        (f"uploads/{PHOTO_ID}/sub/a.jpg", PHOTO_ID),
    ],
)
def test_keys_put_without_the_api_get_a_stable_id(key: str, photo_id: str) -> None:
    # The id of a key that has none is the first 32 hex digits of its SHA-256.
    assert photo_id_for_key(key) == photo_id


def test_keys_outside_uploads_are_refused() -> None:
    with pytest.raises(InvalidKey) as refused:
        photo_id_for_key("derivatives/x/thumbnails/256.jpg")

    assert str(refused.value) == "not under uploads/: 'derivatives/x/thumbnails/256.jpg'"


def test_derivative_keys_sit_in_the_photos_own_folder() -> None:
    assert derivative_key(PHOTO_ID, "thumbnails", "256") == (
        "derivatives/0123456789abcdef0123456789abcdef/thumbnails/256.jpg"
    )
    assert derivative_key(PHOTO_ID, "filters", "sepia") == (
        "derivatives/0123456789abcdef0123456789abcdef/filters/sepia.jpg"
    )
    # Modern formats end as their format does
    assert derivative_key(PHOTO_ID, "thumbnails", "256", "avif") == (
        "derivatives/0123456789abcdef0123456789abcdef/thumbnails/256.avif"
    )


def test_execution_names_name_the_photo_and_the_object_version() -> None:
    # photo-<photo id>-<first 24 hex digits of SHA-256 of "bucket\nkey\nversion">
    key = f"uploads/{PHOTO_ID}/a.jpg"

    assert execution_name("photos", key, "v1") == (
        "photo-0123456789abcdef0123456789abcdef-e1411a144dc2c051bd551e1e"
    )
    assert execution_name("photos", key, "v2") == (
        "photo-0123456789abcdef0123456789abcdef-de31183699d6515c239f05bd"
    )


def test_execution_names_are_valid_step_functions_names() -> None:
    # At most 80 characters of letters, digits, - and _ (whatever the key holds)
    name = execution_name("photos", "uploads/" + "ü" * 300 + " /x.jpg", "v1")

    assert len(name) == 63
    assert re.fullmatch(r"photo-[0-9a-f]{32}-[0-9a-f]{24}", name)
