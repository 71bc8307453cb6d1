"""Smart crops: the square keeps the busy subject, wherever it sits in the photo."""

from __future__ import annotations

import pytest
from PIL import Image

from photoflow.imaging import interesting_square, make_thumbnail_set
from tests.photos import (
    GENEROUS,
    TOP_LEFT_MARKER,
    decode,
    encode,
    marker_size,
    patch_colour,
    render_scene,
)


def subject_on_plain_ground(
    size: tuple[int, int], subject: tuple[int, int, int, int], seed: int = 1
) -> Image.Image:
    """A plain, softly shaded ground (a sky, a wall) with a detailed scene pasted at ``subject``.

    The shading spans 16 grey levels: a full black-to-white gradient would have the
    highest histogram entropy of all, and be taken for the subject.
    """
    ground = Image.linear_gradient("L").resize(size).point(lambda v: 150 + v // 16)
    ground = ground.convert("RGB")
    left, top, right, bottom = subject
    ground.paste(render_scene(right - left, bottom - top, seed=seed), (left, top))
    return ground


def contains(box: tuple[int, int, int, int], inner: tuple[int, int, int, int]) -> bool:
    return box[0] <= inner[0] and box[1] <= inner[1] and box[2] >= inner[2] and box[3] >= inner[3]


@pytest.mark.parametrize(
    ("size", "subject"),
    [
        ((1200, 800), (900, 250, 1150, 550)),  # landscape, subject at the right
        ((1200, 800), (30, 100, 330, 400)),  # landscape, subject at the left
        ((800, 1200), (200, 900, 500, 1150)),  # portrait, subject low
        ((800, 1200), (250, 20, 550, 300)),  # portrait, subject high
        ((2000, 800), (1250, 200, 1550, 600)),  # wide, right of centre, short of the edge
    ],
)
def test_the_square_holds_an_off_centre_subject(
    size: tuple[int, int], subject: tuple[int, int, int, int]
) -> None:
    photo = subject_on_plain_ground(size, subject)
    width, height = size
    side = min(size)
    centre = ((width - side) // 2, (height - side) // 2)
    # (a centre crop would cut the subject: the test would prove nothing otherwise)
    assert not contains((*centre, centre[0] + side, centre[1] + side), subject)

    box = interesting_square(size, photo.resize((width // 4, height // 4)))

    assert contains(box, subject), box
    assert box[2] - box[0] == box[3] - box[1] == side
    assert contains((0, 0, width, height), box)


def test_the_thumbnail_step_makes_the_square_around_the_subject() -> None:
    # Given a 1200x800 photo whose subject (a red-marked scene) sits at the right
    photo = subject_on_plain_ground((1200, 800), (880, 200, 1180, 600))
    data = encode(photo, "PNG")

    made = make_thumbnail_set(data, [600, 150], GENEROUS, square=200)

    assert made.square is not None
    assert (made.square.name, made.square.width, made.square.height) == ("square", 200, 200)
    assert [t.name for t in made.thumbnails] == ["600", "150"]
    # Then the square is the right 800x800 of the photo, shrunk by 4: the subject's red
    # top-left marker, at (880, 200) in the photo, is at (120, 50) in the square
    square = decode(made.square.data)
    side = marker_size(300, 400) // 4  # 6 px once shrunk
    red = patch_colour(square, (121, 51, 120 + side - 1, 50 + side - 1))
    assert all(abs(a - b) <= 40 for a, b in zip(red, TOP_LEFT_MARKER, strict=True)), red


def test_no_square_unless_asked_and_never_enlarged() -> None:
    data = encode(render_scene(300, 200, seed=4), "PNG")

    assert make_thumbnail_set(data, [150], GENEROUS).square is None
    small = make_thumbnail_set(data, [150], GENEROUS, square=512).square
    assert small is not None
    # The square comes from the thumbnails' decode: at most the largest one's short edge
    assert (small.width, small.height) == (100, 100)
