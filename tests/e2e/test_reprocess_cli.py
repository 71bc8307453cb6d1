"""`photoflow reprocess` as a developer uses it: photos stored, a thumbnail size added to
the running stack (`photoflow deploy`, as `sam deploy` would), then every photo made
before the new configuration version is made again, and the page shows the new size."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from photoflow_local.identity import LOCAL_TEST_PASSWORD, LOCAL_TEST_USER
from tests.e2e.conftest import photoflow_up
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, sign_in_on_page
from tests.photos import make_photo
from tests.support import ROOT, photoflow

ADDED = "ThumbnailSizes=2048,1024,512,256 ConfigVersion=2"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("reprocess")
    with photoflow_up(workdir, ROOT / "template.yaml", ROOT / "web") as state:
        yield workdir, state


def _record(workdir: Path, photo_id: str) -> dict[str, Any]:
    shown = photoflow(workdir, "status", photo_id)
    assert shown.returncode == 0, shown.stderr
    record: dict[str, Any] = json.loads(shown.stdout)
    return record


def _jpegs(record: dict[str, Any]) -> list[str]:
    return [r["name"] for r in record["renditions"] if r["format"] == "jpeg"]


def test_after_a_size_is_added_reprocessing_makes_every_photo_again_and_the_page_shows_it(
    stack: tuple[Path, dict[str, Any]],
) -> None:
    workdir, state = stack
    # Given three photos processed with the template's sizes and configuration version 1
    files = []
    for n in range(3):
        photo = workdir / f"photo{n}.jpg"
        photo.write_bytes(make_photo(900, 600, seed=60 + n))
        files.append(str(photo))
    uploaded = photoflow(workdir, "upload", "--wait", "--json", *files)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    ids = [result["photoId"] for result in json.loads(uploaded.stdout)]
    for photo_id in ids:
        before = _record(workdir, photo_id)
        assert (_jpegs(before), before["configVersion"]) == (["2048", "1024", "256", "square"], 1)

    # When a 512 px size is added and the configuration version raised
    template = str(ROOT / "template.yaml")
    deployed = photoflow(workdir, "deploy", "--template", template, "--parameter-overrides", ADDED)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    # and the photos made before version 2 are reprocessed, followed to the end
    run = photoflow(workdir, "reprocess", "--before-version", "2", "--wait")

    # Then the run says what it chose, how far it got, and what it did
    assert run.returncode == 0, run.stdout + run.stderr
    assert (
        "reprocessing 3 photos (every completed photo made before configuration version 2)"
        in run.stdout
    )
    assert "SUCCEEDED" in run.stdout
    assert "photos: 3 in all, 3 done, 0 failed, 0 pending" in run.stdout
    assert "3 reprocessed" in run.stdout
    assert re.search(
        r"results: s3://\S+/reprocess/results/[0-9a-f-]{36}/manifest\.json", run.stdout
    )
    # and every photo has the new size, made by version 2
    for photo_id in ids:
        after = _record(workdir, photo_id)
        assert _jpegs(after) == ["2048", "1024", "512", "256", "square"], after
        assert after["configVersion"] == 2 and after["reprocessedAt"] is not None

    # and nothing is left to reprocess before version 2, while its status reads back
    again = photoflow(workdir, "reprocess", "--before-version", "2")
    assert again.returncode == 1
    assert again.stdout.strip() == "no photo is selected: nothing to reprocess"
    status = photoflow(workdir, "reprocess", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "3 reprocessed" in status.stdout

    # and the page offers the new size in each photo's pictures
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(state["apiUrl"] + "/")
            sign_in_on_page(page, LOCAL_TEST_USER, LOCAL_TEST_PASSWORD)
            for photo_id in ids:
                tile = page.locator(f'[data-testid="gallery-item"][data-photo-id="{photo_id}"]')
                image = tile.get_by_test_id("gallery-image")
                expect(image).to_have_attribute(
                    "srcset", re.compile(r"/thumbnails/512\.jpg\S* 512w")
                )
                avif = tile.locator('source[type="image/avif"]')
                expect(avif).to_have_attribute("srcset", re.compile(r" 512w"))
        finally:
            browser.close()
