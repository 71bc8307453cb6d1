"""Near-duplicates: how far apart the perceptual hashes of near-copies and of different photos lie.

Every photo goes through the workflow's own route (thumbnails from one decode, the
hash of the smallest). A near-copy is what people upload twice: the same photo
recompressed, resized, or slightly cropped. The threshold the imaging code uses
(``photoflow.imaging.NEAR_DUPLICATE_DISTANCE``) is chosen from this table: no
different photos within it, and as few near-copies outside it as that allows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from photoflow.config import ImagingConfig
from photoflow.duplicates import shares_band
from photoflow.imaging import hamming_distance, make_thumbnails, summarize_rendition
from photoflow_local import samples

PHOTO_SIZE = (1600, 1200)
QUALITY = 90


def _jpeg(image: Image.Image, quality: int = QUALITY) -> bytes:
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _cropped(image: Image.Image, left: float, top: float, right: float, bottom: float) -> bytes:
    width, height = image.size
    box = (
        round(width * left),
        round(height * top),
        round(width * (1 - right)),
        round(height * (1 - bottom)),
    )
    return _jpeg(image.crop(box))


# What a second upload of the same photo looks like.
VARIANTS: dict[str, Callable[[Image.Image], bytes]] = {
    "recompressed at quality 40": lambda image: _jpeg(image, 40),
    "resized to half": lambda image: _jpeg(
        image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    ),
    "resized to a quarter, quality 70": lambda image: _jpeg(
        image.resize((image.width // 4, image.height // 4), Image.Resampling.LANCZOS), 70
    ),
    "cropped 3% all round": lambda image: _cropped(image, 0.03, 0.03, 0.03, 0.03),
    "cropped 8% off one side": lambda image: _cropped(image, 0.08, 0.0, 0.0, 0.0),
    "cropped 5% off two sides": lambda image: _cropped(image, 0.0, 0.05, 0.05, 0.0),
}


@dataclass(frozen=True)
class DistanceRates:
    distance: int
    false_positive_rate: float  # different photos within the distance, of all such pairs
    miss_rate: float  # near-copies beyond the distance, of all near-copy pairs


@dataclass(frozen=True)
class DuplicateResult:
    photos: int
    near: dict[str, list[int]]  # variant -> its distances to the originals
    different: list[int]  # distances between different photos
    # variant -> per photo, whether the copy shares a hash band with its original (what
    # the lookup through the table's band indexes can find: photoflow.duplicates)
    banded: dict[str, list[bool]]

    def lookup_recall(self, distance: int) -> float:
        """Of the near-copies within ``distance``, the share the band lookup finds."""
        within = [
            shared
            for name, distances in self.near.items()
            for d, shared in zip(distances, self.banded[name], strict=True)
            if d <= distance
        ]
        return sum(within) / len(within) if within else 0.0

    def rates(self, distances: Sequence[int]) -> list[DistanceRates]:
        near = [d for values in self.near.values() for d in values]
        return [error_rates(near, self.different, distance) for distance in distances]


def error_rates(near: Sequence[int], different: Sequence[int], distance: int) -> DistanceRates:
    """Rates if photos within ``distance`` bits were taken for duplicates."""
    if not near or not different:
        raise ValueError("both near-copies and different photos are needed")
    return DistanceRates(
        distance,
        sum(d <= distance for d in different) / len(different),
        sum(d > distance for d in near) / len(near),
    )


def choose_threshold(rates: Sequence[DistanceRates]) -> int:
    """The largest distance at which no different photos are taken for duplicates."""
    clean = [rate.distance for rate in rates if rate.false_positive_rate == 0]
    if not clean:
        raise ValueError("different photos collide at every distance measured")
    return max(clean)


def measure(count: int, config: ImagingConfig) -> DuplicateResult:
    """Hash ``count`` generated photos and their near-copies through the thumbnail route."""

    def phash(data: bytes) -> str:
        smallest = make_thumbnails(data, config.thumbnail_sizes, config.limits)[-1]
        return summarize_rendition(smallest.data).phash

    originals: list[str] = []
    near: dict[str, list[int]] = {name: [] for name in VARIANTS}
    banded: dict[str, list[bool]] = {name: [] for name in VARIANTS}
    variant_hashes: list[tuple[int, str]] = []
    for seed in range(count):
        scene = samples.render_scene(*PHOTO_SIZE, seed=1000 + seed)
        original = phash(_jpeg(scene))
        originals.append(original)
        for name, make in VARIANTS.items():
            copy = phash(make(scene))
            near[name].append(hamming_distance(original, copy))
            banded[name].append(shares_band(original, copy))
            variant_hashes.append((seed, copy))
    different = [
        hamming_distance(a, b) for i, a in enumerate(originals) for b in originals[i + 1 :]
    ]
    # A near-copy of one photo against every other photo's original, too.
    different += [
        hamming_distance(copy, originals[other])
        for seed, copy in variant_hashes
        for other in range(count)
        if other != seed
    ]
    return DuplicateResult(count, near, different, banded)
