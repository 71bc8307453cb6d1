"""Near-duplicates: a photo is marked ``duplicateOf`` the earliest of its owner's completed
photos whose perceptual hash lies within ``NEAR_DUPLICATE_DISTANCE`` bits of its own.

The lookup never scans. The 64-bit hash is cut into four bands of 16 bits; each band,
with the owner, keys an index of the photo table (``ByHashBand0`` to ``ByHashBand3``), and
a lookup queries the four indexes for the photo's own bands. Two hashes at most 3 bits
apart always share a band (four bands, three changed bits), so a recompressed or resized
copy (within 2 bits, as the bench measures) is always found; hashes 4 to 10 bits apart
(crops, mostly) are found when one band came through intact, which the bench prints as
the lookup's recall. A random photo shares a given band with one in 65,536: an owner with
N photos yields about N / 16,384 candidates, each compared on the whole hash.

The thumbnail step looks the photo up (it reads, never writes, the table); the
workflow's RecordResult writes the photo's hash and its bands with the COMPLETED record,
in the same "OWNER#BAND#DIGITS" form (a unit test holds the ASL to ``hash_bands``). So
only completed photos are candidates (a failed or half-processed photo is no original),
and two near-copies processed at the same moment do not see each other.
"""

from __future__ import annotations

from photoflow.imaging import NEAR_DUPLICATE_DISTANCE, hamming_distance
from photoflow.models import PhotoRef
from photoflow.photos import PhotoRepository

BANDS = 4
BAND_DIGITS = 4  # hex digits per band: 16 bits


def hash_bands(owner: str, phash: str) -> list[str]:
    """The band keys of a hash for ``owner``: owner, band number and the band's digits."""
    if len(phash) != BANDS * BAND_DIGITS:
        raise ValueError(f"a perceptual hash has {BANDS * BAND_DIGITS} hex digits: {phash!r}")
    return [
        f"{owner}#{band}#{phash[band * BAND_DIGITS : (band + 1) * BAND_DIGITS]}"
        for band in range(BANDS)
    ]


def shares_band(a: str, b: str) -> bool:
    """Whether two hashes agree on one band at least (what the lookup can find)."""
    return any(
        a[band * BAND_DIGITS : (band + 1) * BAND_DIGITS]
        == b[band * BAND_DIGITS : (band + 1) * BAND_DIGITS]
        for band in range(BANDS)
    )


def find_original(photos: PhotoRepository, photo: PhotoRef, phash: str) -> str | None:
    """The id of the earliest of the owner's completed photos near ``phash``; None if
    there is none, or if the photo has no owner."""
    if not photo.owner:
        return None
    bands = hash_bands(photo.owner, phash)
    near: dict[str, str] = {}  # photo id -> created at
    for band, key in enumerate(bands):
        for candidate in photos.completed_in_hash_band(band, key):
            if candidate.photo_id == photo.id:
                continue
            if hamming_distance(candidate.phash, phash) <= NEAR_DUPLICATE_DISTANCE:
                near[candidate.photo_id] = candidate.created_at
    if not near:
        return None
    return min(near, key=lambda photo_id: (near[photo_id], photo_id))
