"""The documentation a newcomer reads: a README read in five minutes, one page per subject
in docs/, and no relative link (README.md, docs/, web/) that leads nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
WEB = ROOT / "web"
SUBJECT_PAGES = [
    "local-stack.md",
    "replay-and-mocks.md",
    "http-api.md",
    "notifications.md",
    "performance-and-cost.md",
    "workflow-types.md",
    "security.md",
    "operations.md",
    "architecture.md",
]
README_MAX_BYTES = 10_000

FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
HTML_REFERENCE = re.compile(r"""\b(?:href|src)=["']([^"']+)["']""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
# In scripts, comments point to documents by path, e.g. "see ../docs/security.md".
DOCUMENT_PATH = re.compile(r"(?<![\w/.:-])((?:\.{1,2}/)*[\w.-]+(?:/[\w.-]+)*\.md(?:#[\w-]+)?)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        prose = INLINE_CODE.sub("", FENCED.sub("", text))
        return MARKDOWN_LINK.findall(prose)
    if path.suffix == ".html":
        return HTML_REFERENCE.findall(text)
    if path.suffix == ".css":
        return CSS_URL.findall(text)
    return DOCUMENT_PATH.findall(text)


def anchors(markdown: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as hyphens, a repeated heading numbered."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCED.sub("", markdown.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def dead_end(source: Path, reference: str) -> str | None:
    """What is wrong with a relative reference from ``source``, or None if it resolves."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", reference) or reference.startswith("//"):
        return None  # http:, https:, mailto:, data: are not files of the repository
    target, _, anchor = reference.partition("#")
    path = (source.parent / target).resolve() if target else source
    if not path.exists():
        return f"{source.relative_to(ROOT)}: {reference} (no {target})"
    if anchor and path.suffix == ".md" and anchor not in anchors(path):
        return f"{source.relative_to(ROOT)}: {reference} (no heading #{anchor} in {target})"
    return None


def documents() -> list[Path]:
    return [
        README,
        *sorted(DOCS.glob("**/*.md")),
        *sorted(p for p in WEB.rglob("*") if p.suffix in {".html", ".js", ".css"}),
    ]


def test_every_relative_link_in_the_readme_docs_and_page_resolves() -> None:
    checked = [(source, reference) for source in documents() for reference in references(source)]

    dead = [problem for source, ref in checked if (problem := dead_end(source, ref)) is not None]

    assert dead == []
    # and the check saw the links that matter, the page's pointer to the security page too
    assert (WEB / "config.js", "../docs/security.md#who-may-call-the-api") in checked
    assert sum(source == README for source, _ in checked) >= len(SUBJECT_PAGES)


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("docs/nowhere.md", "README.md: docs/nowhere.md (no docs/nowhere.md)"),
        ("docs/security.md#no-such-part", "(no heading #no-such-part in docs/security.md)"),
    ],
)
def test_a_dead_link_is_named_with_what_is_missing(reference: str, problem: str) -> None:
    found = dead_end(README, reference)

    assert found is not None and found.endswith(problem)


def test_the_readme_is_read_in_five_minutes() -> None:
    text = README.read_text(encoding="utf-8")

    assert len(text.encode("utf-8")) <= README_MAX_BYTES
    headings = HEADING.findall(text)
    assert headings[0] == "PhotoFlow"
    for part in ("Two commands", "Layout", "Where to go next"):
        assert part in headings
    assert "make run " in text and "make test " in text
    for page in SUBJECT_PAGES:
        assert f"](docs/{page})" in text, f"the README does not lead to docs/{page}"


@pytest.mark.parametrize("page", SUBJECT_PAGES)
def test_each_subject_has_a_page_of_its_own(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")

    assert text.startswith("# ")
    assert len(text) > 1000


def test_the_local_stack_page_says_what_is_kept_and_what_is_not_emulated() -> None:
    text = re.sub(r"\s+", " ", (DOCS / "local-stack.md").read_text(encoding="utf-8"))

    assert "Everything is kept in memory." in text
    assert "the next `photoflow up` starts empty" in text
    assert "what-is-not-emulated" in anchors(DOCS / "local-stack.md")
    assert "The local stack says so when it starts, resource by resource." in text
