"""The domain's unit tests run without moto: none of their modules imports it, directly or
through what they import."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

HERE = Path(__file__).resolve().parent


def modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts) for path in HERE.glob("*.py")
    )


def test_no_module_here_names_moto() -> None:
    named = []
    for path in sorted(HERE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            else:
                continue
            named += [f"{path.name}: {n}" for n in imported if n.split(".")[0] == "moto"]
    assert named == []
    assert "tests.unit.domain.test_photos" in modules()


def test_importing_every_module_here_loads_no_moto() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'moto' or m.startswith('moto.')))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
