"""The web page in a real browser: upload, live status, results, errors, keyboard, phones.

Headless Chromium (Debian's package; CHROMIUM_PATH overrides where it is) driven by
Playwright, against the page and API served by the local stack. axe-core (pinned in
requirements/axe-core.txt) checks the page against WCAG 2.2 A and AA as it goes: empty,
after uploads and failures, and on a phone.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    Locator,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)

from photoflow_local.client import PhotosClient
from photoflow_local.identity import LOCAL_TEST_PASSWORD, LOCAL_TEST_USER
from photoflow_local.stack import LocalStack
from tests import axe
from tests.photos import encode, make_photo, render_scene, truncated_jpeg
from tests.support import ROOT, QueueWatcher, notifications, poll

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
WORKFLOW_TIMEOUT_MS = 60_000  # upload to a terminal state, through the whole workflow
UI_TIMEOUT_MS = 10_000  # anything the page does without the workflow

HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
SWATCH = re.compile(r"^(#[0-9a-f]{6}) (\d+)%$")  # a colour and the share of the photo it covers
TIMES = "\N{MULTIPLICATION SIGN}"  # as the page writes dimensions
OpenPage = Callable[..., Page]
# axe-core's tags for WCAG 2.0, 2.1 and 2.2, levels A and AA
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FOCUS_RING = (29, 111, 242)  # --focus in style.css (light scheme, as headless Chromium has)
PHONE_WIDTH = 375


@dataclass
class Chromium:
    """One browser for the module, launched by the first test that needs it.

    Launching inside the test (not in a fixture) makes a missing browser a test
    failure with the reason, rather than a set-up error or a skip.
    """

    playwright: Playwright
    browser: Browser | None = None

    def launch(self) -> Browser:
        if self.browser is None:
            if not CHROMIUM.is_file():
                pytest.fail(
                    f"no Chromium at {CHROMIUM}: install Debian's package "
                    "(apt-get install -y chromium) or point CHROMIUM_PATH at a Chromium binary",
                    pytrace=False,
                )
            self.browser = self.playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        return self.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    with sync_playwright() as playwright:
        launcher = Chromium(playwright)
        yield launcher
        if launcher.browser is not None:
            launcher.browser.close()


@pytest.fixture
def open_page(chromium: Chromium, local_stack: LocalStack) -> Iterator[OpenPage]:
    """Open the page in a fresh browser context, signed in as ``user`` (name, password; the
    local test user by default, None: not signed in); ``config`` is set before config.js."""
    contexts = []
    script_errors: list[str] = []

    def open_(
        *,
        width: int = 1280,
        height: int = 900,
        config: dict[str, Any] | None = None,
        user: tuple[str, str] | None = (LOCAL_TEST_USER, LOCAL_TEST_PASSWORD),
    ) -> Page:
        context = chromium.launch().new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        if config is not None:
            settings = json.dumps({"apiBaseUrl": "", **config})
            page.add_init_script(f"window.PHOTOFLOW_CONFIG = {settings};")
        page.goto(local_stack.api_url + "/")
        if user is not None:
            sign_in_on_page(page, *user)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert script_errors == [], f"uncaught errors in the page: {script_errors}"


def sign_in_on_page(page: Page, username: str, password: str) -> None:
    """Sign in as a person does: the page's button, the login's form, and back."""
    page.get_by_test_id("sign-in-main").click()
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_have_text(username)
    expect(page.get_by_test_id("dropzone")).to_be_visible()


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def card(page: Page, filename: str) -> Locator:
    return page.locator(f'[data-testid="photo-card"][data-filename="{filename}"]')


def wait_for_images(page: Page, scope: Locator | None = None) -> None:
    """Every <img> (in ``scope``, else on the page) has finished loading and has pixels."""
    handle = (scope or page.locator("body")).element_handle()
    page.wait_for_function(
        """root => [...root.querySelectorAll("img")]
            .every(img => img.complete && img.naturalWidth > 0)""",
        arg=handle,
        timeout=UI_TIMEOUT_MS,
    )


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


@cache
def axe_source() -> str:
    try:
        return axe.script().read_text(encoding="utf-8")
    except axe.AxeUnavailable as error:
        pytest.fail(f"axe-core is needed for the accessibility checks: {error}", pytrace=False)


def assert_accessible(page: Page, when: str) -> None:
    """No violation of axe-core's WCAG 2.2 A and AA rules on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self')
        # does not apply, and the page itself stays as it is served.
        page.evaluate(axe_source())
    violations = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                        resultTypes: ["violations"]})
            .then(results => results.violations.map(v => ({
                rule: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})))""",
        WCAG_22_AA,
    )
    assert violations == [], f"WCAG 2.2 AA violations {when}: {json.dumps(violations, indent=1)}"


# Why the focused element's focus is not visible: no outline, or an ancestor that clips it.
FOCUS_PROBLEM = """el => {
    const style = getComputedStyle(el);
    const width = parseFloat(style.outlineWidth);
    if (style.outlineStyle === "none" || !(width >= 2)) return "no outline";
    const ring = width + Math.max(0, parseFloat(style.outlineOffset) || 0);
    const box = el.getBoundingClientRect();
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        const clip = getComputedStyle(up);
        if (clip.overflowX === "visible" && clip.overflowY === "visible") continue;
        const edge = up.getBoundingClientRect();
        if (box.left - ring < edge.left || box.top - ring < edge.top
            || box.right + ring > edge.right || box.bottom + ring > edge.bottom) {
            return `outline clipped by <${up.tagName.toLowerCase()} class="${up.className}">`;
        }
    }
    return null;
}"""


def tab_stops(page: Page) -> list[dict[str, Any]]:
    """Every stop Tab reaches from the top, once round: what it is and any focus problem."""
    limit = page.evaluate(
        "() => document.querySelectorAll('a[href], button, summary, input, [tabindex]').length"
    )
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    stops: list[dict[str, Any]] = []
    for _ in range(limit + 2):
        page.keyboard.press("Tab")
        focused = page.evaluate_handle("() => document.activeElement")
        stop = page.evaluate(
            """el => el && el !== document.body ? {
                tag: el.tagName.toLowerCase(), text: el.textContent.trim().slice(0, 200),
                testid: el.closest("[data-testid]")?.dataset.testid || ""} : null""",
            focused,
        )
        if stop is None or (stops and stop == {k: stops[0][k] for k in stop}):
            break
        stop["problem"] = page.evaluate(FOCUS_PROBLEM, focused)
        stops.append(stop)
    return stops


def ring_pixels_above(page: Page, target: Locator) -> float:
    """The share of the row 4 px above ``target`` drawn in the focus ring's colour."""
    box = target.bounding_box()
    assert box is not None
    clip = {"x": box["x"], "y": box["y"] - 4, "width": box["width"], "height": 1}
    with Image.open(BytesIO(page.screenshot(clip=clip))) as row:
        pixels = list(row.convert("RGB").get_flattened_data())
    close = [p for p in pixels if sum(abs(a - b) for a, b in zip(p, FOCUS_RING, strict=True)) < 60]
    return len(close) / len(pixels)


@pytest.mark.browser
def test_uploads_show_progress_then_results_or_the_failure(
    open_page: OpenPage, tmp_path: Path
) -> None:
    # Given the page, with nothing uploaded from it yet: accessible as it is
    page = open_page()
    expect(page.get_by_test_id("gallery-status")).not_to_have_text("Loading…")
    assert_accessible(page, "on the empty page")
    # and two photos and a corrupt JPEG on disk
    files = write_files(
        tmp_path,
        {
            "beach.jpg": make_photo(
                1600, 1000, gps=(40.0, -3.7), taken_at=datetime(2024, 3, 9, 18, 42, 5)
            ),
            "logo.png": make_photo(600, 400, fmt="PNG", mode="RGBA"),
            "broken.jpg": truncated_jpeg(),
        },
    )

    # When they are chosen in the file picker
    page.get_by_test_id("file-input").set_input_files(files)

    # Then each gets a card whose progress bar fills as the upload goes
    beach, logo, broken = (card(page, path.name) for path in files)
    for uploaded in (beach, logo, broken):
        expect(uploaded).to_be_visible()
        progress = uploaded.get_by_role("progressbar", include_hidden=True)
        expect(progress).to_have_accessible_name(
            f"Upload of {uploaded.get_attribute('data-filename')}"
        )
        expect(progress).to_have_js_property("value", 100)

    # and the photos complete, with their thumbnails loaded
    for completed in (beach, logo):
        expect(completed).to_have_attribute("data-status", "COMPLETED", timeout=WORKFLOW_TIMEOUT_MS)
        thumbnail = completed.get_by_test_id("thumbnail")
        wait_for_images(page, completed)
        assert thumbnail.evaluate("img => img.naturalWidth") == 256
    expect(beach.get_by_test_id("thumbnail")).to_have_attribute(
        "alt", "Thumbnail of beach.jpg, 256 px"
    )
    # in a <picture> whose AVIF and WebP sources come first, the placeholder gone once loaded
    assert beach.locator("picture source").evaluate_all("all => all.map(s => s.type)") == [
        "image/avif",
        "image/webp",
    ]
    expect(beach.get_by_test_id("blurhash")).to_have_count(0)
    expect(beach.get_by_test_id("full-size-link")).to_contain_text(f"1600 {TIMES} 1000")
    expect(beach.get_by_test_id("status-text")).to_contain_text("Processed in")

    # and the metadata: dimensions, camera, time taken, colours
    expect(beach.get_by_test_id("dimensions")).to_have_text(f"1600 {TIMES} 1000 px")
    expect(logo.get_by_test_id("dimensions")).to_have_text(f"600 {TIMES} 400 px")
    expect(beach.get_by_test_id("camera")).to_have_text("Canon EOS R5")
    expect(beach.get_by_test_id("taken-at")).to_have_text("2024-03-09 18:42:05")
    # but no location, though the photo has one: the local stack keeps KeepLocation's default
    expect(beach.get_by_test_id("location")).to_have_count(0)
    expect(beach.get_by_test_id("location-link")).to_have_count(0)
    # each colour with the share of the photo it covers, the largest first
    swatches = [text.strip() for text in beach.get_by_test_id("colour-swatch").all_text_contents()]
    shares = [SWATCH.match(text) for text in swatches]
    assert swatches and all(shares), swatches
    percents = [int(share[2]) for share in shares if share]
    assert percents == sorted(percents, reverse=True) and sum(percents) <= 102, swatches

    # and the filtered versions, each described
    filters = beach.get_by_test_id("filter-image")
    expect(filters).to_have_count(4)
    expect(beach.get_by_alt_text("beach.jpg with sepia filter")).to_be_visible()

    # and the corrupt file failed, its reason shown as an alert, in words for people
    expect(broken).to_have_attribute("data-status", "FAILED", timeout=WORKFLOW_TIMEOUT_MS)
    error = broken.get_by_test_id("photo-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("CorruptImage")
    expect(error.locator("summary")).to_have_text(
        re.compile(r"^the JPEG image data is damaged or incomplete")
    )

    # and the status changes were announced, and the gallery shows the new photos
    expect(page.get_by_test_id("announcer")).not_to_be_empty()
    for completed in (beach, logo):
        photo_id = completed.get_attribute("data-photo-id")
        expect(
            page.locator(f'[data-testid="gallery-item"][data-photo-id="{photo_id}"]')
        ).to_be_visible()
    # and the failed one, with its reason
    failed_tile = page.locator(
        f'[data-testid="gallery-item"][data-photo-id="{broken.get_attribute("data-photo-id")}"]'
    )
    expect(failed_tile.locator("summary")).to_have_text(
        re.compile(r"^broken\.jpg failed: the JPEG image data is damaged or incomplete")
    )
    expect(failed_tile.locator("summary")).to_be_visible()
    wait_for_images(page)
    screenshot(page, "upload.png")
    ARTIFACTS.mkdir(exist_ok=True)
    failed_tile.screenshot(path=ARTIFACTS / "failed-tile.png")

    # and the page, uploads and failures shown, is still accessible
    assert_accessible(page, "after uploads and a failure")


@pytest.mark.browser
def test_a_text_file_named_like_a_photo_is_refused_with_the_servers_reason(
    open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page()
    [fake] = write_files(tmp_path, {"photo.jpg": b"hello, I am text, not a photo\n" * 20})

    page.get_by_test_id("file-input").set_input_files(fake)

    refused = card(page, "photo.jpg")
    expect(refused).to_have_attribute("data-status", "REJECTED", timeout=UI_TIMEOUT_MS)
    error = refused.get_by_test_id("photo-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("UnsupportedFormat")
    expect(refused.get_by_test_id("thumbnail")).to_have_count(0)


@pytest.mark.browser
def test_files_that_are_not_images_or_too_large_never_leave_the_browser(
    open_page: OpenPage, tmp_path: Path
) -> None:
    # Given a page whose size limit is 1000 bytes
    page = open_page(config={"maxBytes": 1000})
    uploads: list[str] = []
    page.on(
        "request",
        lambda request: uploads.append(request.url) if request.method == "POST" else None,
    )
    expect(page.get_by_test_id("dropzone")).to_contain_text("up to 1000 bytes")
    files = write_files(
        tmp_path, {"big.jpg": make_photo(400, 300), "notes.txt": b"shopping: milk, eggs\n"}
    )

    # When both are chosen
    page.get_by_test_id("file-input").set_input_files(files)

    # Then each card says why, and nothing was sent
    big, notes = card(page, "big.jpg"), card(page, "notes.txt")
    expect(big).to_have_attribute("data-status", "REJECTED")
    expect(big.get_by_role("alert")).to_contain_text("too large (")
    expect(big.get_by_role("alert")).to_contain_text("limit 1000 bytes)")
    expect(notes).to_have_attribute("data-status", "REJECTED")
    expect(notes.get_by_role("alert")).to_contain_text("not an image")
    assert uploads == []


@pytest.mark.browser
def test_the_keyboard_reaches_the_picker_and_load_more(
    open_page: OpenPage, local_stack: LocalStack, tmp_path: Path
) -> None:
    # Given more photos than one gallery page holds
    client = PhotosClient(local_stack.api_url)
    for seed in range(2):
        client.upload_bytes(make_photo(320, 240, seed=seed), f"keyboard-{seed}.jpg")
    page = open_page(config={"galleryPageSize": 1})
    # Playwright intercepts file choosers only once something listens for them, and
    # switching that on races a key press that follows at once (a click is slower).
    page.on("filechooser", lambda _: None)
    expect(page.get_by_test_id("load-more")).to_be_visible()

    # When Tab is pressed from the top, sign-out is the first stop, the drop zone the
    # next, visibly focused
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("sign-out")).to_be_focused()
    page.keyboard.press("Tab")
    dropzone = page.get_by_test_id("dropzone")
    expect(dropzone).to_be_focused()
    assert dropzone.evaluate("el => getComputedStyle(el).outlineStyle") != "none"

    # and Enter opens the file picker, whose photo is then uploaded
    [photo] = write_files(tmp_path, {"by-keyboard.jpg": make_photo(300, 200)})
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(photo)
    by_keyboard = card(page, "by-keyboard.jpg")
    expect(by_keyboard).to_have_attribute("data-status", "COMPLETED", timeout=WORKFLOW_TIMEOUT_MS)
    # its completion reloads the gallery's first page: let that settle before paging
    expect(page.get_by_test_id("gallery-item").first).to_have_attribute(
        "data-photo-id", by_keyboard.get_attribute("data-photo-id") or ""
    )

    # and more Tabs reach "Load more", which Enter follows
    load_more = page.get_by_test_id("load-more")
    for _ in range(30):
        if load_more.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(load_more).to_be_focused()
    items = page.get_by_test_id("gallery-item")
    shown = items.count()
    page.keyboard.press("Enter")
    expect(items).to_have_count(shown + 1)


@pytest.mark.browser
def test_on_a_phone_the_page_is_one_column_without_sideways_scrolling(
    open_page: OpenPage, local_stack: LocalStack, tmp_path: Path
) -> None:
    # Given photos in the gallery already
    client = PhotosClient(local_stack.api_url)
    for seed in range(2):
        uploaded = client.upload_bytes(make_photo(320, 240, seed=seed), f"phone-{seed}.jpg")
        client.wait(uploaded["photoId"], timeout=60)
    page = open_page(width=PHONE_WIDTH, height=740)
    long_name = "IMG_20240309_184205_from_a_phone_with_a_very_long_file_name.jpg"
    files = write_files(
        tmp_path,
        {long_name: make_photo(1200, 900, gps=(51.5, -0.12)), "photo.jpg": b"not a photo"},
    )

    page.get_by_test_id("file-input").set_input_files(files)

    expect(card(page, long_name)).to_have_attribute(
        "data-status", "COMPLETED", timeout=WORKFLOW_TIMEOUT_MS
    )
    expect(card(page, "photo.jpg")).to_have_attribute("data-status", "REJECTED")
    wait_for_images(page)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    boxes = [c.bounding_box() for c in page.get_by_test_id("photo-card").all()]
    lefts = {round(box["x"]) for box in boxes if box}
    assert len(boxes) == 2 and len(lefts) == 1, f"cards side by side: {boxes}"
    # and the gallery, as the documentation says: one column
    items = page.get_by_test_id("gallery-item")
    expect(items.first).to_be_visible()
    tiles = [item.bounding_box() for item in items.all()[:3]]
    assert len({round(box["x"]) for box in tiles if box}) == 1, f"tiles side by side: {tiles}"
    screenshot(page, "narrow.png")
    assert_accessible(page, f"at {PHONE_WIDTH} px")


@pytest.mark.browser
def test_large_files_go_through_a_presigned_upload(open_page: OpenPage, tmp_path: Path) -> None:
    # Given a page that sends anything over 1 KB through a presigned upload
    page = open_page(config={"directUploadMaxBytes": 1024})
    posted: list[str] = []
    page.on(
        "request", lambda request: posted.append(request.url) if request.method == "POST" else None
    )
    [photo] = write_files(tmp_path, {"large.jpg": make_photo(800, 600)})

    page.get_by_test_id("file-input").set_input_files(photo)

    # Then the file goes to storage (another origin), not the API, and is processed
    large = card(page, "large.jpg")
    expect(large).to_have_attribute("data-status", "COMPLETED", timeout=WORKFLOW_TIMEOUT_MS)
    expect(large.get_by_test_id("dimensions")).to_have_text(f"800 {TIMES} 600 px")
    page_origin = page.url  # the local stack serves the page and the API together
    assert len(posted) == 2, posted
    grant, upload = posted
    assert grant == page_origin + "photos/uploads"
    assert not upload.startswith(page_origin), upload


@pytest.mark.browser
def test_a_photo_still_processing_when_the_wait_ends_says_so(
    open_page: OpenPage, tmp_path: Path
) -> None:
    # Given a page that follows a photo for no time at all (the real bound is 3 minutes)
    page = open_page(config={"pollTimeoutMs": 0})
    [photo] = write_files(tmp_path, {"slow.jpg": make_photo(300, 200)})

    page.get_by_test_id("file-input").set_input_files(photo)

    # Then the card says to come back later, and offers to look again
    slow = card(page, "slow.jpg")
    expect(slow.get_by_test_id("status-text")).to_have_text("Still processing, refresh later.")
    expect(slow.get_by_test_id("check-again")).to_be_visible()
    expect(slow).not_to_have_attribute("data-status", "FAILED")


# What each modern format's file starts with: ISO BMFF's ftyp box of brand avif; RIFF WEBP.
MAGIC = {"image/avif": (4, b"ftypavif"), "image/webp": (8, b"WEBP")}


def placeholder_pixels(canvas: Locator) -> dict[str, Any]:
    """The BlurHash canvas's size, how many of its pixels are opaque, and its distinct colours."""
    result: dict[str, Any] = canvas.evaluate(
        """canvas => {
            const { width, height } = canvas;
            const { data } = canvas.getContext("2d").getImageData(0, 0, width, height);
            const colours = new Set();
            let opaque = 0;
            for (let at = 0; at < data.length; at += 4) {
                if (data[at + 3] === 255) opaque += 1;
                colours.add(`${data[at]},${data[at + 1]},${data[at + 2]}`);
            }
            return { width: canvas.width, height: canvas.height, opaque, colours: colours.size };
        }"""
    )
    return result


@pytest.mark.browser
def test_a_tile_offers_avif_and_webp_and_paints_the_blurhash_until_its_picture_loads(
    open_page: OpenPage, local_stack: LocalStack
) -> None:
    # Given a processed photo of 900 x 600 px
    client = PhotosClient(local_stack.api_url)
    photo_id = client.upload_bytes(make_photo(900, 600, seed=41), "modern.jpg")["photoId"]
    assert client.wait(photo_id, timeout=60)["status"] == "COMPLETED"
    # and the page, its thumbnail requests held back until the test lets them go
    page = open_page(config={"galleryPageSize": 50})
    held: list[Route] = []
    released: list[bool] = []

    def thumbnail(url: str) -> bool:
        return "/thumbnails/" in url

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    def held_so_far() -> int:
        page.evaluate("0")  # a round trip, in which Playwright hands over the routes it holds
        return len(held)

    page.route(thumbnail, hold)
    page.reload()
    expect(page.get_by_test_id("user-name")).to_have_text(LOCAL_TEST_USER)
    tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{photo_id}"]')

    # Then, while its picture is on its way, the tile shows the BlurHash painted on a canvas
    canvas = tile.get_by_test_id("blurhash")
    expect(canvas).to_be_visible()
    poll(held_so_far, lambda n: n >= 1, timeout=10, what="a thumbnail request held")
    painted = placeholder_pixels(canvas)
    assert (painted["width"], painted["height"]) == (32, 21)  # the photo's 3:2, 32 px wide
    assert painted["opaque"] == 32 * 21
    assert painted["colours"] > 8, painted  # a blur of the photo, not one flat colour
    assert tile.get_by_test_id("gallery-image").evaluate("img => img.naturalWidth") == 0
    screenshot(page, "placeholders.png")
    assert_accessible(page, "with placeholders painted")

    # and its <picture> offers AVIF, then WebP, before the JPEG <img>
    picture = tile.locator("picture")
    types = picture.locator("source").evaluate_all("sources => sources.map(s => s.type)")
    assert types == ["image/avif", "image/webp"]
    img = picture.locator(":scope > img")
    expect(img).to_have_attribute("alt", "Thumbnail of modern.jpg, 256 px")
    expect(img).to_have_attribute("width", "256")
    expect(img).to_have_attribute("height", "171")
    expect(img).to_have_attribute("data-testid", "gallery-image")
    # each size of each format, whose URL answers with that format's bytes and type
    for content_type, (offset, magic) in MAGIC.items():
        srcset = picture.locator(f'source[type="{content_type}"]').get_attribute("srcset") or ""
        candidates = [candidate.strip().split(" ") for candidate in srcset.split(",")]
        assert [width for _, width in candidates] == ["256w", "900w"], srcset
        for url, _ in candidates:
            response = page.request.get(url)
            assert response.status == 200, url
            assert response.headers["content-type"] == content_type
            assert response.body()[offset : offset + len(magic)] == magic

    # When the pictures arrive
    released.append(True)
    for route in held:
        route.continue_()
    wait_for_images(page, tile)

    # Then the AVIF is shown (Chromium decodes it) and the placeholder is gone
    current = tile.get_by_test_id("gallery-image").evaluate("img => img.currentSrc")
    assert f"/derivatives/{photo_id}/thumbnails/256.avif?" in current, current
    expect(canvas).to_have_count(0)
    screenshot(page, "pictures.png")


@pytest.mark.browser
def test_a_photo_uploaded_again_is_marked_a_duplicate_of_the_first_in_the_gallery(
    open_page: OpenPage, local_stack: LocalStack
) -> None:
    # Given a photo, and later the same scene again, smaller and recompressed
    client = PhotosClient(local_stack.api_url)
    scene = render_scene(1200, 900, seed=5151)
    first = client.upload_bytes(encode(scene, quality=92), "meadow.jpg")["photoId"]
    assert client.wait(first, timeout=60)["status"] == "COMPLETED"
    again = client.upload_bytes(encode(scene.resize((600, 450)), quality=60), "meadow-2.jpg")
    assert client.wait(again["photoId"], timeout=60)["status"] == "COMPLETED"

    # When the gallery lists them
    page = open_page(config={"galleryPageSize": 50})
    copy_tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{again["photoId"]}"]')
    first_tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{first}"]')
    expect(copy_tile).to_be_visible()
    wait_for_images(page)

    # Then the copy says which photo it repeats, and the first says nothing of the kind
    expect(copy_tile.get_by_test_id("duplicate-mark")).to_have_text("Duplicate of meadow.jpg")
    expect(first_tile.get_by_test_id("duplicate-mark")).to_have_count(0)
    assert_accessible(page, "with a duplicate marked")
    screenshot(page, "duplicates.png")


@pytest.mark.browser
def test_the_gallerys_refresh_keeps_the_keyboard_focus_and_the_pictures_it_had(
    open_page: OpenPage, local_stack: LocalStack, tmp_path: Path
) -> None:
    # Given a processed photo in the gallery, its link focused from the keyboard
    client = PhotosClient(local_stack.api_url)
    kept = client.upload_bytes(make_photo(480, 320, seed=31), "kept.jpg")["photoId"]
    client.wait(kept, timeout=60)
    page = open_page(config={"galleryPageSize": 50})
    tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{kept}"]')
    link = tile.locator("a")
    expect(link).to_be_visible()
    wait_for_images(page)
    tile.evaluate("el => { el.querySelector('img').dataset.before = 'refresh'; }")
    link.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()

    # When an upload from the page ends, which refreshes the gallery
    [another] = write_files(tmp_path, {"refreshing.jpg": make_photo(320, 240, seed=32)})
    page.get_by_test_id("file-input").set_input_files(another)
    expect(card(page, "refreshing.jpg")).to_have_attribute(
        "data-status", "COMPLETED", timeout=WORKFLOW_TIMEOUT_MS
    )
    expect(page.get_by_test_id("gallery-item").filter(has_text="refreshing.jpg")).to_have_count(
        1, timeout=WORKFLOW_TIMEOUT_MS
    )

    # Then the keyboard is still on the same photo's link, not back at the top of the page
    expect(link).to_be_focused()
    # and its picture is the one already loaded, not fetched again
    assert tile.locator("img").get_attribute("data-before") == "refresh"


@pytest.mark.browser
def test_every_control_shows_its_focus_and_failures_are_reached_by_keyboard(
    open_page: OpenPage, local_stack: LocalStack, tmp_path: Path
) -> None:
    # Given a photo and a corrupt file processed, and the page after a corrupt upload of its own
    client = PhotosClient(local_stack.api_url)
    good = client.upload_bytes(make_photo(640, 480, seed=7), "focus.jpg")["photoId"]
    bad = client.upload_bytes(truncated_jpeg(), "focus-broken.jpg")["photoId"]
    for photo_id in (good, bad):
        client.wait(photo_id, timeout=60)
    page = open_page(config={"galleryPageSize": 50})
    [broken] = write_files(tmp_path, {"typed-broken.jpg": truncated_jpeg()})
    page.get_by_test_id("file-input").set_input_files(broken)
    typed = card(page, "typed-broken.jpg")
    expect(typed).to_have_attribute("data-status", "FAILED", timeout=WORKFLOW_TIMEOUT_MS)
    failed_tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{bad}"]')
    expect(failed_tile).to_be_visible()
    # (the gallery's refresh after the typed upload ended, so that it is a stop too)
    expect(page.get_by_test_id("gallery-item").filter(has_text="typed-broken.jpg")).to_have_count(
        1, timeout=WORKFLOW_TIMEOUT_MS
    )
    wait_for_images(page)

    # When Tab goes round the page
    stops = tab_stops(page)

    # Then every stop shows its focus, unclipped
    assert [stop for stop in stops if stop["problem"]] == [], stops
    # and the failed card and the failed tile are stops, each named by its reason
    reasons = [stop["text"] for stop in stops if stop["tag"] == "summary"]
    assert any(r.startswith("the JPEG image data is damaged") for r in reasons), reasons
    assert any(
        r.startswith("focus-broken.jpg failed: the JPEG image data is damaged") for r in reasons
    ), reasons

    # and Enter on the failed tile's reason shows the error's name
    summary = failed_tile.locator("summary")
    for _ in range(len(stops) + 1):
        if summary.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(summary).to_be_focused()
    expect(failed_tile.get_by_text("CorruptImage")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(failed_tile.get_by_text("CorruptImage")).to_be_visible()

    # and a focused gallery tile has its whole ring drawn, above the picture too
    link = page.locator(f'[data-testid="gallery-item"][data-photo-id="{good}"] a')
    for _ in range(len(stops) + 1):
        if link.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(link).to_be_focused()
    assert ring_pixels_above(page, link) > 0.8
    tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{good}"]').bounding_box()
    assert tile is not None
    ARTIFACTS.mkdir(exist_ok=True)
    margin = 10  # the ring lies outside the tile's box
    page.screenshot(
        path=ARTIFACTS / "focused-tile.png",
        clip={
            "x": tile["x"] - margin,
            "y": tile["y"] - margin,
            "width": tile["width"] + 2 * margin,
            "height": tile["height"] + 2 * margin,
        },
    )


def test_two_people_each_see_only_their_own_photos_and_a_deletion_is_gone_everywhere(
    open_page: OpenPage, local_stack: LocalStack, deleted_queue: QueueWatcher, tmp_path: Path
) -> None:
    # Given two people of the pool, each signed in in a browser of their own
    assert local_stack.user_pool is not None
    people, subs = {}, {}
    for name in ("ada", "grace"):
        username, password = f"{name}-{uuid.uuid4().hex[:8]}", "Browser-test-pass1"
        subs[name] = local_stack.user_pool.add_user(username, password)
        people[name] = (username, open_page(user=(username, password)))

    # When each uploads a photo of their own
    ids = {}
    for name, (_, page) in people.items():
        [photo] = write_files(tmp_path, {f"{name}.jpg": make_photo(640, 480, seed=len(name))})
        page.get_by_test_id("file-input").set_input_files([photo])
        uploaded = card(page, f"{name}.jpg")
        expect(uploaded).to_have_attribute("data-status", "COMPLETED", timeout=WORKFLOW_TIMEOUT_MS)
        ids[name] = uploaded.get_attribute("data-photo-id")

    # Then each one's recent photos hold their own photo and nobody else's
    for name, (_, page) in people.items():
        page.get_by_test_id("gallery-refresh").click()
        tiles = page.get_by_test_id("gallery-item")
        expect(tiles).to_have_count(1)
        expect(tiles.first).to_have_attribute("data-photo-id", ids[name] or "")

    # When Ada deletes hers
    ada_page = people["ada"][1]
    ada_page.get_by_role("button", name="Delete ada.jpg").click()

    # Then it leaves her page, the bucket, the table and her list, announced once
    expect(ada_page.get_by_test_id("gallery-item")).to_have_count(0)
    expect(ada_page.get_by_test_id("gallery-status")).to_have_text(
        "No photos yet. Upload one above."
    )
    photo_id = ids["ada"] or ""
    s3, bucket = local_stack.client("s3"), local_stack.output("PhotosBucketName")
    for prefix in (f"uploads/{photo_id}/", f"derivatives/{photo_id}/"):
        listed = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        assert listed.get("Versions", []) + listed.get("DeleteMarkers", []) == [], prefix
    assert local_stack.photo_item(photo_id) is None
    [[event]] = notifications(photo_id, {deleted_queue: 1})
    assert event["body"]["owner"] == subs["ada"]
    ada_page.reload()
    expect(ada_page.get_by_test_id("gallery-status")).to_have_text(
        "No photos yet. Upload one above."
    )
    # and Grace's photo is untouched
    grace_page = people["grace"][1]
    grace_page.get_by_test_id("gallery-refresh").click()
    expect(grace_page.get_by_test_id("gallery-item")).to_have_count(1)
    poll(
        lambda: local_stack.photo_item(ids["grace"] or ""),
        lambda item: item is not None and item["status"]["S"] == "COMPLETED",
        what="Grace's photo still COMPLETED",
    )

    # When Ada signs out, the page asks her to sign in again and shows no photos
    ada_page.get_by_test_id("sign-out").click()
    expect(ada_page.get_by_test_id("signed-out")).to_be_visible()
    expect(ada_page.get_by_test_id("dropzone")).to_be_hidden()
