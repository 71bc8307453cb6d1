"""axe-core for the browser tests: the version pinned in requirements/axe-core.txt, fetched
once from the npm registry, checked against its sha256, kept in .cache/.

``python -m tests.axe`` fetches it (the Makefile's set-up step, so that ``make test`` works
on a clean clone); the browser tests call :func:`script` and fail with the reason when it
cannot be had.
"""

from __future__ import annotations

import hashlib
import io
import re
import sys
import tarfile
import urllib.request
from pathlib import Path

from tests.support import ROOT

PIN_FILE = ROOT / "requirements" / "axe-core.txt"
CACHE = ROOT / ".cache"
REGISTRY = "https://registry.npmjs.org/axe-core/-/axe-core-{version}.tgz"
MEMBER = "package/axe.min.js"
_PIN = re.compile(r"^axe-core==(?P<version>[0-9][\w.+-]*) --hash=sha256:(?P<sha256>[0-9a-f]{64})$")


class AxeUnavailable(RuntimeError):
    """The pinned axe-core is not in the cache and cannot be fetched, or is not what was pinned."""


def pinned() -> tuple[str, str]:
    """(version, sha256 of the tarball) as requirements/axe-core.txt pins them."""
    for line in PIN_FILE.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            return match["version"], match["sha256"]
    raise AxeUnavailable(f"{PIN_FILE.name} pins no axe-core==VERSION --hash=sha256:HASH")


def script() -> Path:
    """axe.min.js of the pinned version: from the cache, else fetched and checked first."""
    version, sha256 = pinned()
    cached = CACHE / f"axe-core-{version}" / "axe.min.js"
    if cached.is_file():
        return cached
    url = REGISTRY.format(version=version)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            tarball = response.read()
    except OSError as error:
        raise AxeUnavailable(f"cannot fetch {url}: {error}") from error
    digest = hashlib.sha256(tarball).hexdigest()
    if digest != sha256:
        raise AxeUnavailable(f"{url} has sha256 {digest}, not the pinned {sha256}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise AxeUnavailable(f"{url} has no {MEMBER}")
        source = member.read()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial")
    partial.write_bytes(source)
    partial.replace(cached)  # whole or not at all: a cut download never looks cached
    return cached


if __name__ == "__main__":
    try:
        found = script()
    except AxeUnavailable as error:
        sys.stderr.write(f"axe-core: {error}\n")
        sys.exit(1)
    sys.stdout.write(f"{found.relative_to(ROOT)}\n")
