"""The first set-up as `make run` and `make test` do it on a clean clone.

The project's own Makefile runs in a temporary folder on a stand-in project: one pinned
package from a local wheel and a project whose build backend is a file beside it, so pip
installs for real, offline and in seconds. The stand-in keeps the project's
requires-python, which is what the Makefile checks.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT

REQUIRES_PYTHON = re.search(
    r'^requires-python = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
)
PINNED = "photoflow-standin-dependency"

# The stand-in's build backend hands pip a wheel the test made (pip runs it in the project).
BACKEND = """\
import shutil

WHEEL = "photoflow_standin-1.0-py3-none-any.whl"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    shutil.copy(f"prebuilt/{WHEEL}", wheel_directory)
    return WHEEL


build_editable = build_wheel
"""


def _wheel(folder: Path, name: str, version: str) -> None:
    """A pure-Python wheel with nothing in it but its metadata."""
    distribution = name.replace("-", "_")
    info = f"{distribution}-{version}.dist-info"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    with zipfile.ZipFile(folder / f"{distribution}-{version}-py3-none-any.whl", "w") as wheel:
        record = []
        for path, text in files.items():
            digest = hashlib.sha256(text.encode()).digest()
            encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            record.append(f"{path},sha256={encoded},{len(text.encode())}")
            wheel.writestr(path, text)
        wheel.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A clean clone, as far as the set-up can tell: the Makefile, a lock file, a project."""
    assert REQUIRES_PYTHON, "pyproject.toml states requires-python"
    clone = tmp_path / "clone"
    (clone / "requirements").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", clone / "Makefile")
    (clone / "requirements" / "dev.lock").write_text(f"{PINNED}==1.0\n")
    (clone / "backend.py").write_text(BACKEND)
    (clone / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            [project]
            name = "photoflow_standin"
            version = "1.0"
            requires-python = "{REQUIRES_PYTHON[1]}"
            """
        )
    )
    (clone / "prebuilt").mkdir()
    _wheel(clone / "prebuilt", "photoflow_standin", "1.0")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, PINNED, "1.0")
    return clone


def make_setup(clone: Path, python: str) -> subprocess.CompletedProcess[str]:
    """`make setup PYTHON=python` as a person runs it, pip offline with the local wheel."""
    return subprocess.run(
        ["make", "setup", f"PYTHON={python}"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(clone),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(clone.parent / "wheels"),
            "PIP_CACHE_DIR": str(clone.parent / "pip-cache"),
        },
    )


@pytest.fixture
def python_310(tmp_path: Path) -> str:
    """A Python 3.10: a real one when installed, else this interpreter saying it is 3.10."""
    installed = [
        *sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.10.*/bin/python3.10")),
        *[found for found in [shutil.which("python3.10")] if found],
    ]
    for candidate in installed:
        with contextlib.suppress(subprocess.CalledProcessError):
            if python_version(candidate) == "3.10":
                return candidate
    stand_in = tmp_path / "python3.10"
    site = tmp_path / "site-310"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import collections, sys\n"
        "Version = collections.namedtuple('Version', 'major minor micro releaselevel serial')\n"
        "sys.version_info = Version(3, 10, 13, 'final', 0)\n"
    )
    stand_in.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} "$@"\n')
    stand_in.chmod(0o755)
    return str(stand_in)


def python_version(python: Path | str) -> str:
    return subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_too_old_a_python_is_refused_before_anything_is_made(
    project: Path, python_310: str
) -> None:
    done = make_setup(project, python_310)

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert (
        f"setup: PhotoFlow needs Python 3.11 or newer; PYTHON={python_310} is Python 3.10."
        in output
    )
    assert "make setup PYTHON=python3.11" in output
    assert not (project / ".venv").exists()


def test_a_venv_made_by_another_python_is_made_again(project: Path, python_310: str) -> None:
    # Given a .venv that Python 3.10 made, as after a first attempt with it, and a stamp
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(python_310)
    (venv / "left-by-3.10").write_text("")
    (venv / ".installed").write_text("")

    # When the set-up runs with this Python
    done = make_setup(project, sys.executable)

    # Then the old .venv is gone, and the new one is this Python's, installed and stamped
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    mine = python_version(sys.executable)
    assert f"setup: removing .venv: it was made by Python 3.10, not {mine}" in output
    assert not (venv / "left-by-3.10").exists()
    assert python_version(venv / "bin" / "python") == mine
    assert (venv / f".installed-python{mine}").exists()


def test_the_first_set_up_shows_each_step_and_its_time(project: Path) -> None:
    done = make_setup(project, sys.executable)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = done.stdout.splitlines()
    steps = [
        "creating .venv",
        "installing the pinned packages of requirements/dev.lock (pip's progress below)",
        "installing photoflow itself (editable)",
    ]
    for step in steps:
        assert f"setup: {step} ..." in lines, output
        done_line = re.compile(rf"setup: {re.escape(step)}: done in \d+ s")
        assert any(done_line.fullmatch(line) for line in lines), output
    # pip's own progress between the lines of the big step
    start = lines.index(f"setup: {steps[1]} ...")
    end = next(i for i, line in enumerate(lines) if line.startswith(f"setup: {steps[1]}: done"))
    assert any(f"Successfully installed {PINNED}-1.0" in line for line in lines[start:end])
    assert lines[-1] == "setup: .venv is ready"

    # and a second run has nothing left to do
    again = make_setup(project, sys.executable)
    assert again.returncode == 0
    assert "setup:" not in again.stdout
