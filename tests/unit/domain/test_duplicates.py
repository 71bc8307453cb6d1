"""Near-duplicates (photoflow.duplicates): the hash's bands and the lookup over them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from photoflow.duplicates import find_original, hash_bands, shares_band
from photoflow.models import PhotoRef
from photoflow.photos import HashedPhoto
from photoflow_local.aws_jsonata import evaluate
from tests.support import ROOT

PHASH = "0123456789abcdef"


@dataclass
class FakePhotos:
    """The repository call the lookup makes: a band's completed photos."""

    bands: dict[str, list[HashedPhoto]] = field(default_factory=dict)
    queried: list[tuple[int, str]] = field(default_factory=list)

    def completed_in_hash_band(self, band: int, key: str) -> Iterator[HashedPhoto]:
        self.queried.append((band, key))
        yield from self.bands.get(key, [])


def photo(owner: str | None = "ada") -> PhotoRef:
    return PhotoRef(
        id="a" * 32,
        bucket="photos",
        key=f"uploads/{'a' * 32}/harbour.jpg",
        size=1,
        filename="harbour.jpg",
        uploadedAt="2026-12-01T10:00:00Z",
        owner=owner,
    )


def test_a_hash_is_cut_into_four_bands_of_sixteen_bits_keyed_by_owner() -> None:
    assert hash_bands("ada", PHASH) == ["ada#0#0123", "ada#1#4567", "ada#2#89ab", "ada#3#cdef"]
    with pytest.raises(ValueError, match="16 hex digits"):
        hash_bands("ada", "0123")


def test_two_hashes_share_a_band_when_one_band_came_through_intact() -> None:
    assert shares_band(PHASH, "f123f567f9abfdef") is False  # a bit changed in every band
    assert shares_band(PHASH, "f123f567f9abcdef") is True  # the last band intact
    assert shares_band(PHASH, PHASH) is True


def test_the_earliest_completed_photo_within_ten_bits_is_the_original() -> None:
    photos = FakePhotos(
        bands={
            "ada#0#0123": [
                HashedPhoto("a" * 32, "2026-11-30T00:00:00Z", PHASH),  # the photo itself
                HashedPhoto("b" * 32, "2026-11-02T00:00:00Z", "0123456789abcdee"),  # 1 bit
                HashedPhoto("c" * 32, "2026-10-01T00:00:00Z", "0123ffffffffffef"),  # 19 bits
            ],
            "ada#3#cdef": [
                HashedPhoto("d" * 32, "2026-11-01T00:00:00Z", "0123456789ab00ef"),  # 5 bits
                HashedPhoto("b" * 32, "2026-11-02T00:00:00Z", "0123456789abcdee"),
            ],
        }
    )

    assert find_original(photos, photo(), PHASH) == "d" * 32  # 5 bits, and the earliest

    assert photos.queried == [
        (0, "ada#0#0123"),
        (1, "ada#1#4567"),
        (2, "ada#2#89ab"),
        (3, "ada#3#cdef"),
    ]


def test_nothing_near_is_no_original() -> None:
    photos = FakePhotos(
        bands={"ada#1#4567": [HashedPhoto("c" * 32, "2026-10-01T00:00:00Z", "ffff4567ffffffff")]}
    )
    assert find_original(photos, photo(), PHASH) is None


def test_a_photo_without_an_owner_is_not_looked_up() -> None:
    photos = FakePhotos()
    assert find_original(photos, photo(owner=None), PHASH) is None
    assert photos.queried == []


def test_the_workflow_records_the_bands_the_lookup_queries() -> None:
    # The ASL's RecordResult writes the hash and its bands; the lookup's keys must be those.
    asl = json.loads((ROOT / "statemachine" / "photo_workflow.asl.json").read_text())
    values = asl["States"]["RecordResult"]["Arguments"]["ExpressionAttributeValues"]
    derivatives = {"pixels": {"phash": PHASH}}

    def written(owner: str | None) -> list[str]:
        bindings = {"photo": {"id": "a" * 32, "owner": owner}, "derivatives": derivatives}
        return [evaluate(values[f":band{band}"]["S"][2:-2], bindings) for band in range(4)]

    assert written("ada") == hash_bands("ada", PHASH)
    assert written(None) == ["#0#0123", "#1#4567", "#2#89ab", "#3#cdef"]
    assert evaluate(values[":phash"]["S"][2:-2], {"derivatives": derivatives}) == PHASH
