"""Thumbnails: every format, upright, flattened to RGB on white, fitted, never enlarged, clean."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin

from photoflow.imaging import (
    UnsupportedFormat,
    apply_filters,
    decode_fitted,
    decode_for_size,
    fitted_size,
    hamming_distance,
    make_thumbnails,
    open_for_size,
    probe,
    summarize_pixels,
    summarize_rendition,
)
from tests.photos import (
    GENEROUS,
    TOP_LEFT_MARKER,
    TOP_RIGHT_MARKER,
    decode,
    encode,
    grey_profile,
    make_photo,
    patch_colour,
    render_scene,
    swapped_primaries_profile,
    transparent_box,
)

WHITE = (255, 255, 255)


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def markers(image: Image.Image) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Mean colours just inside the top-left and top-right corners."""
    inset, side = 2, max(2, min(image.size) // 20)
    left = patch_colour(image, (inset, inset, inset + side, inset + side))
    right = patch_colour(
        image, (image.width - inset - side, inset, image.width - inset, inset + side)
    )
    return left, right


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "HEIF"])
def test_every_accepted_format_gives_fitted_jpeg_thumbnails(fmt: str) -> None:
    # Given a 3:2 photo of 1600x1067 in this format
    data = make_photo(1600, 1067, fmt=fmt)

    # When thumbnails of three sizes are made
    renditions = make_thumbnails(data, [256, 1024, 512], GENEROUS)

    # Then they come largest first, named by size, with the fitted dimensions
    assert [(r.name, r.width, r.height) for r in renditions] == [
        ("1024", 1024, 683),
        ("512", 512, 341),
        ("256", 256, 171),
    ]
    for rendition in renditions:
        output = decode(rendition.data)
        assert (output.format, output.mode) == ("JPEG", "RGB")
        assert output.size == (rendition.width, rendition.height)
        assert rendition.content_type == "image/jpeg"
        assert close_to(markers(output)[0], TOP_LEFT_MARKER, 40)


def test_an_animated_gif_gives_its_first_frame() -> None:
    # Given a three-frame GIF whose frames are three different scenes
    data = make_photo(480, 320, fmt="GIF", frames=3, seed=7)
    first, second = render_scene(480, 320, seed=7), render_scene(480, 320, seed=8)

    thumbnail = make_thumbnails(data, [240], GENEROUS)[0]

    summary = summarize_rendition(thumbnail.data)
    assert hamming_distance(summary.phash, summarize_pixels(first).phash) <= 6
    assert hamming_distance(summary.phash, summarize_pixels(second).phash) >= 16


@pytest.mark.parametrize(
    ("fmt", "orientation"),
    [
        ("JPEG", 2),
        ("JPEG", 3),
        ("JPEG", 4),
        ("JPEG", 5),
        ("JPEG", 6),
        ("JPEG", 7),
        ("JPEG", 8),
        ("PNG", 6),
        ("WEBP", 8),
        ("TIFF", 6),
        ("TIFF", 8),
        ("HEIF", 6),
        ("HEIF", 8),
    ],
)
def test_thumbnails_are_upright_whatever_the_exif_orientation(fmt: str, orientation: int) -> None:
    # Given a 600x800 portrait, red marker top-left and blue top-right as seen upright,
    # stored rotated/mirrored the way a camera does for this orientation
    data = make_photo(600, 800, fmt=fmt, orientation=orientation)

    thumbnail = make_thumbnails(data, [400], GENEROUS)[0]

    # Then the thumbnail is portrait and the markers are back in the top corners
    assert (thumbnail.width, thumbnail.height) == (300, 400)
    top_left, top_right = markers(decode(thumbnail.data))
    assert close_to(top_left, TOP_LEFT_MARKER, 40), top_left
    assert close_to(top_right, TOP_RIGHT_MARKER, 40), top_right


def test_a_cmyk_jpeg_gives_rgb_thumbnails_with_the_right_colours() -> None:
    data = make_photo(800, 600, mode="CMYK")

    thumbnail = make_thumbnails(data, [400], GENEROUS)[0]

    output = decode(thumbnail.data)
    assert output.mode == "RGB"
    top_left, top_right = markers(output)
    assert close_to(top_left, TOP_LEFT_MARKER, 40), top_left
    assert close_to(top_right, TOP_RIGHT_MARKER, 40), top_right


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "P"), ("PNG", "RGBA"), ("PNG", "LA"), ("WEBP", "RGBA"), ("GIF", "P")],
)
def test_transparent_areas_are_composited_on_white(fmt: str, mode: str) -> None:
    # Given a photo whose bottom quarter is fully transparent (for "P": a magenta
    # palette entry marked transparent, which must not show through)
    data = make_photo(400, 300, fmt=fmt, mode=mode)
    assert decode(data).mode == mode

    thumbnail = make_thumbnails(data, [200], GENEROUS)[0]

    output = decode(thumbnail.data)
    _, top, _, bottom = transparent_box(200, 150)
    assert close_to(patch_colour(output, (20, top + 6, 180, bottom - 2)), WHITE, 6)
    # ...while the opaque part keeps its picture (grey for LA: red has a luma of 76)
    expected = (76, 76, 76) if mode == "LA" else TOP_LEFT_MARKER
    assert close_to(markers(output)[0], expected, 40)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    # Given a 16-bit grey PNG and the same scene as 8-bit grey
    sixteen = make_photo(400, 300, fmt="PNG", mode="I;16")
    eight = make_photo(400, 300, fmt="PNG", mode="L")

    from_sixteen = decode(make_thumbnails(sixteen, [200], GENEROUS)[0].data).convert("L")
    from_eight = decode(make_thumbnails(eight, [200], GENEROUS)[0].data).convert("L")

    # Then both look the same (Pillow's plain conversion would clip nearly all to white)
    assert from_sixteen.getextrema()[0] < 200
    mean_difference = sum(
        abs(a - b) for a, b in zip(from_sixteen.tobytes(), from_eight.tobytes(), strict=True)
    ) / len(from_eight.tobytes())
    assert mean_difference < 2


def test_photos_are_never_enlarged() -> None:
    # Given a 300x200 photo and sizes above and below it
    data = make_photo(300, 200)

    renditions = make_thumbnails(data, [2048, 1024, 256], GENEROUS)

    assert [(r.name, r.width, r.height) for r in renditions] == [
        ("2048", 300, 200),
        ("1024", 300, 200),
        ("256", 256, 171),
    ]
    assert renditions[0].data == renditions[1].data


def test_duplicate_sizes_give_one_rendition_each() -> None:
    renditions = make_thumbnails(make_photo(400, 300), [128, 256, 128], GENEROUS)

    assert [r.name for r in renditions] == ["256", "128"]


@pytest.mark.parametrize("sizes", [[], [0], [256, -1], [True]])
def test_nonsense_sizes_are_a_configuration_error(sizes: list[int]) -> None:
    with pytest.raises(ValueError):
        make_thumbnails(make_photo(64, 48), sizes, GENEROUS)


@pytest.mark.parametrize("quality", [0, 96, 100])
def test_quality_outside_the_useful_range_is_a_configuration_error(quality: int) -> None:
    with pytest.raises(ValueError, match="quality"):
        make_thumbnails(make_photo(64, 48), [32], GENEROUS, quality=quality)


def test_quality_is_applied_and_the_jpeg_is_baseline() -> None:
    data = make_photo(800, 600)

    low = make_thumbnails(data, [400], GENEROUS, quality=40)[0]
    high = make_thumbnails(data, [400], GENEROUS, quality=92)[0]

    assert len(low.data) < len(high.data)
    assert "progressive" not in decode(high.data).info
    assert "progression" not in decode(high.data).info


def jpeg_with_everything(width: int, height: int) -> bytes:
    """A photo with camera EXIF, GPS, a comment and an ICC profile."""
    photo = decode(make_photo(width, height, gps=(-33.86, -70.65, 520.0), lens="RF50mm F1.2"))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        photo,
        "JPEG",
        exif=photo.info["exif"],
        comment=b"taken at home",
        icc_profile=srgb,
        quality=90,
    )


@pytest.mark.parametrize("producer", ["thumbnails", "filters"])
def test_derivatives_carry_no_exif_gps_comment_or_profile(producer: str) -> None:
    # Given a photo whose metadata reveals where it was taken
    data = jpeg_with_everything(800, 600)
    assert decode(data).getexif().get_ifd(0x8825)

    if producer == "thumbnails":
        renditions = make_thumbnails(data, [400, 100], GENEROUS)
    else:
        renditions = apply_filters(data, ["grayscale", "sharpen"], 400, GENEROUS)

    for rendition in renditions:
        output = decode(rendition.data)
        assert len(output.getexif()) == 0
        assert output.getexif().get_ifd(0x8825) == {}
        assert not {"exif", "comment", "icc_profile", "xmp"} & set(output.info)
        assert b"Exif" not in rendition.data[:4096]


def test_an_srgb_or_broken_profile_leaves_the_colours_alone() -> None:
    scene = decode(make_photo(400, 300, quality=95))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plain = encode(scene, "JPEG", quality=95)
    tagged = encode(scene, "JPEG", quality=95, icc_profile=srgb)
    broken = encode(scene, "JPEG", quality=95, icc_profile=b"not an ICC profile" * 10)

    reference = decode(make_thumbnails(plain, [200], GENEROUS)[0].data)
    for variant in (tagged, broken):
        output = decode(make_thumbnails(variant, [200], GENEROUS)[0].data)
        assert output.tobytes() == reference.tobytes()


def test_a_non_srgb_profile_is_converted_to_srgb() -> None:
    # Given a photo tagged with a profile whose red and blue primaries are swapped:
    # its stored red marker means blue, and its stored blue marker means red
    scene = decode(make_photo(400, 300, quality=95))
    tagged = encode(scene, "JPEG", quality=95, icc_profile=swapped_primaries_profile())

    output = decode(make_thumbnails(tagged, [200], GENEROUS)[0].data)

    top_left, top_right = markers(output)
    assert close_to(top_left, TOP_RIGHT_MARKER, 40), top_left
    assert close_to(top_right, TOP_LEFT_MARKER, 40), top_right
    assert "icc_profile" not in output.info


def test_a_profile_for_another_colour_space_is_ignored() -> None:
    # Given RGB pixels tagged with a Lab profile, which cannot describe them
    scene = decode(make_photo(400, 300, quality=95))
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    tagged = encode(scene, "JPEG", quality=95, icc_profile=lab)
    plain = encode(scene, "JPEG", quality=95)

    from_tagged = decode(make_thumbnails(tagged, [200], GENEROUS)[0].data)
    from_plain = decode(make_thumbnails(plain, [200], GENEROUS)[0].data)

    assert from_tagged.tobytes() == from_plain.tobytes()


def test_jpeg_draft_decodes_a_3_by_2_photo_at_a_reduced_scale() -> None:
    # Given a 3000x2000 JPEG and an output of 700 px (fitted: 700x467)
    data = make_photo(3000, 2000, quality=70)

    # Then the decoder is set to 1/4 scale, which covers 700x467 in both dimensions;
    # a square 700x700 box would have stopped at 1/2 (2000 // 700 == 2)
    assert open_for_size(data, 700, GENEROUS).size == (750, 500)
    assert decode_for_size(data, 700, GENEROUS).size == (750, 500)
    assert decode_for_size(data, 1024, GENEROUS).size == (1500, 1000)
    assert decode_fitted(data, 1024, GENEROUS).size == (1024, 683)


def test_decode_for_size_is_upright_rgb_without_metadata() -> None:
    data = make_photo(600, 800, orientation=6, mode="CMYK")

    image = decode_for_size(data, 300, GENEROUS)

    assert image.mode == "RGB"
    assert image.size == (300, 400)  # drafted to 1/2 of the stored 800x600, then turned upright
    assert image.info == {}
    assert close_to(markers(image)[0], TOP_LEFT_MARKER, 40)


def test_formats_without_draft_decode_at_full_size() -> None:
    data = make_photo(1200, 800, fmt="PNG")

    assert decode_for_size(data, 300, GENEROUS).size == (1200, 800)
    assert decode_fitted(data, 300, GENEROUS).size == (300, 200)


@pytest.mark.parametrize(
    ("size", "max_edge", "expected"),
    [
        ((6000, 4000), 2048, (2048, 1365)),
        ((4000, 6000), 2048, (1365, 2048)),
        ((4000, 3000), 1024, (1024, 768)),
        ((1600, 1067), 256, (256, 171)),
        ((5000, 10), 100, (100, 1)),  # never rounds to zero
        ((300, 200), 1024, (300, 200)),  # never enlarged
        ((256, 256), 256, (256, 256)),
    ],
)
def test_fitted_size(size: tuple[int, int], max_edge: int, expected: tuple[int, int]) -> None:
    assert fitted_size(size, max_edge) == expected


def test_cascade_matches_a_direct_resize() -> None:
    # Given thumbnails made in cascade (2048 -> 1024 by reduce -> 256)
    data = make_photo(4000, 3000, quality=80)
    renditions = make_thumbnails(data, [2048, 1024, 256], GENEROUS)
    assert [(r.width, r.height) for r in renditions] == [(2048, 1536), (1024, 768), (256, 192)]

    # Then the smallest looks like the full photo resized directly
    direct = decode(data).resize((256, 192), Image.Resampling.LANCZOS)
    cascaded = decode(renditions[-1].data)
    difference = sum(
        abs(a - b) for a, b in zip(direct.tobytes(), cascaded.tobytes(), strict=True)
    ) / len(direct.tobytes())
    assert difference < 4


def test_a_png_oriented_by_xmp_only_is_turned_upright_and_probed_so() -> None:
    # Given a PNG stored rotated, whose orientation is stated in XMP rather than EXIF
    upright = decode(make_photo(600, 800, fmt="PNG", exif_camera=None))
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
    )
    text = PngImagePlugin.PngInfo()
    text.add_itxt("XML:com.adobe.xmp", xmp)
    data = encode(upright.transpose(Image.Transpose.ROTATE_90), "PNG", pnginfo=text)

    header = probe(data, GENEROUS)
    thumbnail = make_thumbnails(data, [400], GENEROUS)[0]

    assert (header.width, header.height, header.orientation) == (600, 800, 6)
    assert (thumbnail.width, thumbnail.height) == (300, 400)
    assert close_to(markers(decode(thumbnail.data))[0], TOP_LEFT_MARKER, 40)


# --- the resampling recipe, pixel for pixel ------------------------------------------------
# What each step does, stated with Pillow's own calls on the decoded photo: a PNG, so that
# the decode is the full photo; outputs compared after the same JPEG encode (quality 85).


def as_rendition(image: Image.Image) -> bytes:
    return decode(encode(image, "JPEG", quality=85)).tobytes()


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return render_scene(1200, 800, seed=12)


def test_the_first_step_resamples_with_box_after_a_box_reduction(scene: Image.Image) -> None:
    # 1200x800 -> 190x127: shrinking by 6.3, past the reducing gap of 3
    [thumbnail] = make_thumbnails(encode(scene, "PNG"), [190], GENEROUS)

    expected = scene.resize((190, 127), Image.Resampling.BOX, reducing_gap=3.0)
    assert decode(thumbnail.data).tobytes() == as_rendition(expected)


def test_later_steps_resample_the_previous_size_with_lanczos(scene: Image.Image) -> None:
    # 1200x800 -> 500x333 (first step), then 500x333 -> 190x127
    large, small = make_thumbnails(encode(scene, "PNG"), [190, 500], GENEROUS)

    first = scene.resize((500, 333), Image.Resampling.BOX, reducing_gap=3.0)
    assert decode(large.data).tobytes() == as_rendition(first)
    second = first.resize((190, 127), Image.Resampling.LANCZOS, reducing_gap=3.0)
    assert decode(small.data).tobytes() == as_rendition(second)


def test_a_jpeg_short_in_both_dimensions_is_enlarged_in_both() -> None:
    # 4000x3000 for 2048 px (2048x1536): asked for 1984x1488, decoded at 1/2, 2000x1500
    data = make_photo(4000, 3000, quality=70)

    [thumbnail] = make_thumbnails(data, [2048], GENEROUS)

    reduced = Image.open(io.BytesIO(data))
    reduced.draft("RGB", (1984, 1488))
    assert reduced.size == (2000, 1500)
    expected = reduced.convert("RGB").resize((2048, 1536), Image.Resampling.NEAREST)
    assert decode(thumbnail.data).tobytes() == as_rendition(expected)


@pytest.mark.parametrize("size", [(125, 10), (10, 125)])
def test_a_shrink_that_keeps_the_short_edge_is_resampled_not_enlarged(
    size: tuple[int, int],
) -> None:
    # 125x10 -> 120x10: the short edge rounds back to its own length
    scene = render_scene(*size, seed=15)
    target = (120, 10) if size[0] > size[1] else (10, 120)

    [thumbnail] = make_thumbnails(encode(scene, "PNG"), [120], GENEROUS)

    expected = scene.resize(target, Image.Resampling.BOX, reducing_gap=3.0)
    assert decode(thumbnail.data).tobytes() == as_rendition(expected)


def test_decode_fitted_resamples_as_a_first_step(scene: Image.Image) -> None:
    fitted = decode_fitted(encode(scene, "PNG"), 190, GENEROUS)

    expected = scene.resize((190, 127), Image.Resampling.BOX, reducing_gap=3.0)
    assert fitted.tobytes() == expected.tobytes()


def test_an_odd_height_halves_by_box_average_too() -> None:
    # 1200x801 -> 600x401: reduce() averages the last, partial row of blocks
    scene = render_scene(1200, 801, seed=13)

    [half] = make_thumbnails(encode(scene, "PNG"), [600], GENEROUS)

    assert decode(half.data).tobytes() == as_rendition(scene.reduce(2))


def test_a_profile_is_applied_after_the_first_shrink() -> None:
    # Colour conversion costs per pixel: the photo is shrunk first, then converted
    grey = render_scene(64, 32, seed=14).convert("L")
    profile = grey_profile("Linear grey")
    data = encode(grey, "PNG", icc_profile=profile)

    decoded = decode_for_size(data, 20, GENEROUS)

    shrunk = grey.resize((20, 10), Image.Resampling.BOX, reducing_gap=3.0)
    expected = ImageCms.profileToProfile(
        shrunk,
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
        outputMode="RGB",
    )
    assert expected is not None
    assert decoded.tobytes() == expected.tobytes()


def test_only_thumbnails_accept_a_decode_short_of_the_target() -> None:
    # A 4000x3000 JPEG for 2048 px: at 1/2 scale it would be 2000 px, 48 short
    data = make_photo(4000, 3000, quality=70)

    assert open_for_size(data, 2048, GENEROUS).size == (4000, 3000)
    assert decode_for_size(data, 2048, GENEROUS).size == (4000, 3000)
    assert decode_fitted(data, 2048, GENEROUS).size == (2048, 1536)


def test_a_png_a_few_percent_over_an_integer_shrink_is_box_reduced_then_enlarged() -> None:
    # 4000x3000 -> 2048x1536: halving gives 2000x1500, 48 px short (under a 32nd of 2048),
    # so the box average by 2 is enlarged the rest of the way, as a JPEG's 1/2 scale is
    scene = render_scene(4000, 3000, seed=16)

    [thumbnail] = make_thumbnails(encode(scene, "PNG"), [2048], GENEROUS)

    expected = scene.reduce(2).resize((2048, 1536), Image.Resampling.NEAREST)
    assert decode(thumbnail.data).tobytes() == as_rendition(expected)


def test_a_reduction_rounding_up_to_the_near_miss_bound_counts_as_one() -> None:
    # 4001x3001 -> 2065x1549: halving gives 2001x1501 (reduce() rounds up), exactly the
    # lowest a near miss may be (2065 - 2065 // 32, 1549 - 1549 // 32)
    scene = render_scene(4001, 3001, seed=17)

    [thumbnail] = make_thumbnails(encode(scene, "PNG"), [2065], GENEROUS)

    expected = scene.reduce(2).resize((2065, 1549), Image.Resampling.NEAREST)
    assert decode(thumbnail.data).tobytes() == as_rendition(expected)


def test_filters_decode_a_jpeg_short_of_their_size_too() -> None:
    # 4000x3000 for 1024 px: 1/4 scale, 1000x750, is within a 32nd of 1024x768
    data = make_photo(4000, 3000, quality=70)

    fitted = decode_fitted(data, 1024, GENEROUS, near_miss=True)

    reduced = Image.open(io.BytesIO(data))
    reduced.draft("RGB", (992, 744))
    assert reduced.size == (1000, 750)
    expected = reduced.convert("RGB").resize((1024, 768), Image.Resampling.NEAREST)
    assert fitted.tobytes() == expected.tobytes()


def test_an_exact_integer_shrink_is_a_box_average(scene: Image.Image) -> None:
    # 1200x800 -> 600x400 is a halving, by reduce(); 600x400 -> 400x267 is no integer
    # shrink, so it is resampled
    half, third, quarter = make_thumbnails(encode(scene, "PNG"), [600, 400, 300], GENEROUS)

    assert decode(half.data).tobytes() == as_rendition(scene.reduce(2))
    resampled = scene.reduce(2).resize((400, 267), Image.Resampling.LANCZOS, reducing_gap=3.0)
    assert decode(third.data).tobytes() == as_rendition(resampled)
    assert (quarter.width, quarter.height) == (300, 200)


@pytest.mark.parametrize(
    ("size", "fitted", "asked", "decoded"),
    [
        # 2048 - 2048 // 32 = 1984 (and 10 - 10 // 32): 1/2 scale, 2000x10, is enough
        (2048, (2048, 10), (1984, 10), (2000, 10)),
        # 1000 - 1000 // 32 = 969: 1/4 scale, 1000x5, covers it
        (1000, (1000, 5), (969, 5), (1000, 5)),
    ],
)
def test_a_jpeg_is_decoded_up_to_a_32nd_short_of_the_target_and_enlarged(
    monkeypatch: pytest.MonkeyPatch,
    size: int,
    fitted: tuple[int, int],
    asked: tuple[int, int],
    decoded: tuple[int, int],
) -> None:
    # Given a 4000x20 JPEG
    data = make_photo(4000, 20, quality=90)
    requests = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(self: Any, mode: str | None, size: tuple[int, int] | None) -> Any:
        requests.append((mode, size))
        return draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)

    [thumbnail] = make_thumbnails(data, [size], GENEROUS)

    # Then the decoder was asked for the fitted size less a 32nd (rounded down), and
    # what it decoded is enlarged the last few pixels with NEAREST
    assert [(mode, tuple(map(type, wanted))) for mode, wanted in requests] == [("RGB", (int, int))]
    assert requests == [("RGB", asked)]
    monkeypatch.undo()
    reduced = Image.open(io.BytesIO(data))
    reduced.draft("RGB", asked)
    assert reduced.size == decoded
    expected = reduced.convert("RGB").resize(fitted, Image.Resampling.NEAREST)
    assert decode(thumbnail.data).tobytes() == as_rendition(expected)


def test_thumbnails_are_encoded_at_quality_85_unless_told_otherwise() -> None:
    data = make_photo(400, 300)
    default = make_thumbnails(data, [200], GENEROUS)[0].data

    assert default == make_thumbnails(data, [200], GENEROUS, quality=85)[0].data
    assert default != make_thumbnails(data, [200], GENEROUS, quality=86)[0].data


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([], "at least one thumbnail size is required"),
        ([0], "sizes are positive numbers of pixels, got 0"),
        ([256, -1], "sizes are positive numbers of pixels, got -1"),
        ([True], "sizes are positive numbers of pixels, got True"),
        ([12.5], "sizes are positive numbers of pixels, got 12.5"),
    ],
)
def test_nonsense_sizes_are_named_exactly(sizes: list[int], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        make_thumbnails(make_photo(64, 48), sizes, GENEROUS)

    assert str(refused.value) == message


def test_a_size_of_one_pixel_is_a_size() -> None:
    [dot] = make_thumbnails(make_photo(64, 48), [1], GENEROUS)

    assert (dot.name, dot.width, dot.height) == ("1", 1, 1)


# --- every pixel mode an accepted format opens as, and embedded profiles -----------------


def two_halves(mode: str, left: float, right: float) -> Image.Image:
    """An 8x4 image whose left half is ``left`` and right half ``right``, exactly."""
    image = Image.new(mode, (8, 4))
    image.putdata(([left] * 4 + [right] * 4) * 4)
    return image


def decoded_halves(data: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    image = decode_for_size(data, 8, GENEROUS)
    assert image.mode == "RGB"
    return image.getpixel((0, 0)), image.getpixel((7, 3))


@pytest.mark.parametrize(
    ("mode", "left", "right", "expected"),
    [
        # 16-bit (either byte order) and 32-bit integers: 0..65535 scaled to 0..255
        ("I;16", 25700, 65535, (100, 255)),
        ("I;16B", 25700, 65535, (100, 255)),
        ("I", 25700, 65535, (100, 255)),
        # ...unless they never pass 255: then they are taken as they are
        ("I;16", 1, 255, (1, 255)),
        ("I;16", 1, 256, (0, 0)),  # 256 is past 255: scaled, to 256/257 of one level
        ("I", 100, 255, (100, 255)),
        # Floats from 0 to 1 are scaled to 0..255; beyond 1, as integers are
        ("F", 0.25, 1.0, (63, 255)),
        ("F", 0.0, 1.5, (0, 1)),
        ("F", 25700.0, 65535.0, (100, 255)),
    ],
)
def test_deep_grey_pixels_are_scaled_to_eight_bits(
    mode: str, left: float, right: float, expected: tuple[int, int]
) -> None:
    data = encode(two_halves(mode, left, right), "TIFF")
    assert Image.open(io.BytesIO(data)).mode == mode  # as the TIFF opener reads it back

    first, second = decoded_halves(data)

    assert (first, second) == ((expected[0],) * 3, (expected[1],) * 3)


def test_a_bilevel_image_is_black_and_white() -> None:
    image = Image.new("1", (8, 4))
    image.putdata(([0] * 4 + [1] * 4) * 4)

    assert decoded_halves(encode(image, "PNG")) == ((0, 0, 0), WHITE)


def test_a_palette_without_transparency_keeps_its_colours() -> None:
    image = Image.new("P", (8, 4))
    image.putpalette([200, 30, 30, 30, 30, 200])
    image.paste(1, (4, 0, 8, 4))

    assert decoded_halves(encode(image, "PNG")) == ((200, 30, 30), (30, 30, 200))


def test_palette_with_alpha_is_composited_on_white() -> None:
    image = Image.new("PA", (8, 4), (0, 255))
    image.putpalette([200, 30, 30])
    image.paste((0, 0), (4, 0, 8, 4))  # the right half fully transparent

    assert decoded_halves(encode(image, "TIFF")) == ((200, 30, 30), WHITE)


def test_grey_with_premultiplied_alpha_is_refused_by_name() -> None:
    # A TIFF whose alpha is "associated" opens as "La", which Pillow cannot convert
    tiff = encode(Image.new("LA", (8, 8), (10, 255)), "TIFF")
    unassociated = b"\x52\x01\x03\x00\x01\x00\x00\x00\x02\x00\x00\x00"  # ExtraSamples = 2
    associated = tiff.replace(unassociated, unassociated[:8] + b"\x01\x00\x00\x00")

    with pytest.raises(UnsupportedFormat) as refused:
        decode_for_size(associated, 8, GENEROUS)

    assert str(refused.value) == "La pixels cannot be converted to RGB"


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        # A linear grey profile: mid-grey 128 is sRGB 188
        (grey_profile("Linear grey"), (188, 188, 188)),
        # A grey profile without its curve: lcms cannot use it, the pixels stay as they are
        (grey_profile("Curveless grey", gamma=None), (128, 128, 128)),
    ],
)
def test_a_grey_photos_profile_is_converted_to_srgb(
    profile: bytes, expected: tuple[int, int, int]
) -> None:
    data = encode(Image.new("L", (8, 4), 128), "JPEG", quality=95, icc_profile=profile)

    assert decoded_halves(data) == (expected, expected)


def test_a_profile_calling_itself_srgb_is_taken_at_its_word() -> None:
    # Given swapped primaries in a profile that says it is sRGB: it is not converted
    swapped = swapped_primaries_profile()
    named_srgb = swapped.replace(b"Swapped red and blue", b"sRGB swapped colours")
    red = Image.new("RGB", (8, 4), (200, 30, 30))

    assert decoded_halves(encode(red, "PNG", icc_profile=named_srgb)) == ((200, 30, 30),) * 2
    # (with its own name, the same profile is applied: red pixels mean blue)
    assert decoded_halves(encode(red, "PNG", icc_profile=swapped))[0][2] > 150
