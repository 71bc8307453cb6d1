"""Cold starts and layer size, measured on the artefact `sam build` made (`make build`).

Each function starts in a fresh, isolated interpreter of the runtime's Python version,
as in a Lambda execution environment (see photoflow_local.artifact); its initialisation
is the CPU time of importing its handler module, which runs its module-level set-up
(configuration, Logger, Tracer, Metrics). Side by side in every round, two yardsticks:
a function whose only line is ``import boto3`` (what any Python function that calls AWS
pays), and the thumbnail function with a layer stripped of its bytecode (what the
layer's .pyc files save).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench.report import pairs, table
from bench.stats import paired_ratio
from photoflow_local import artifact

SDK_ONLY = "import boto3 only"
NO_BYTECODE = "ThumbnailFunction, layer without bytecode"
# Top-level packages grouped by where they come from, for "what dominates".
GROUPS = {
    "AWS SDK (runtime)": ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil"),
    "pydantic": ("pydantic", "pydantic_core", "annotated_types", "typing_inspection"),
    "Powertools, X-Ray": ("aws_lambda_powertools", "aws_xray_sdk", "wrapt", "typing_extensions"),
    "Pillow, pi-heif": ("PIL", "pi_heif", "_pi_heif"),
    "photoflow": ("photoflow", "app"),
}
OTHER_GROUP = "standard library"


@dataclass(frozen=True)
class ColdStarts:
    cpu_ms: dict[str, list[float]]  # case -> one CPU time per round
    wall_ms: dict[str, list[float]]
    step_functions: tuple[str, ...]
    dominant: dict[str, dict[str, float]]  # function -> group -> share of import time

    def median(self, case: str) -> float:
        return statistics.median(self.cpu_ms[case])

    def ratio(self, case: str, baseline: str) -> float:
        return paired_ratio(self.cpu_ms[case], self.cpu_ms[baseline])


@contextmanager
def _yardsticks(
    stack: artifact.BuiltStack,
) -> Iterator[dict[str, artifact.BuiltFunction]]:
    thumbnail = stack.functions["ThumbnailFunction"]
    with tempfile.TemporaryDirectory(prefix="photoflow-coldstart-") as folder:
        sdk_only = Path(folder, "sdk_only")
        sdk_only.mkdir()
        (sdk_only / "app.py").write_text("import boto3\n\nlambda_handler = print\n")
        bare_layer = Path(folder, "layer")
        shutil.copytree(thumbnail.layer_dirs[0], bare_layer)
        for cache in list(bare_layer.rglob("__pycache__")):
            shutil.rmtree(cache)
        yield {
            SDK_ONLY: replace(thumbnail, logical_id="SdkOnly", code_dir=sdk_only),
            NO_BYTECODE: replace(thumbnail, layer_dirs=(bare_layer,)),
        }


def _group(module: str) -> str:
    top = module.split(".", 1)[0]
    return next((name for name, tops in GROUPS.items() if top in tops), OTHER_GROUP)


def _dominant(function: artifact.BuiltFunction, python: Path) -> dict[str, float]:
    """Share of the import time by where the modules come from (self times, -X importtime)."""
    start = artifact.cold_start(function, python, import_times=True)
    by_group: dict[str, float] = {}
    for module, microseconds in start.self_import_times_us.items():
        group = _group(module)
        by_group[group] = by_group.get(group, 0.0) + microseconds
    total = sum(by_group.values()) or 1.0
    return {group: spent / total for group, spent in by_group.items()}


def measure(rounds: int, step_functions: tuple[str, ...]) -> ColdStarts:
    stack = artifact.load_built_stack()
    python = artifact.find_python(artifact.runtime())
    cpu: dict[str, list[float]] = {}
    wall: dict[str, list[float]] = {}
    with _yardsticks(stack) as yardsticks:
        cases = {**stack.functions, **yardsticks}
        for round_index in range(rounds):
            # Rotate the order so that no case always runs first (or after the same one).
            names = list(cases)
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                start = artifact.cold_start(cases[name], python)
                cpu.setdefault(name, []).append(start.cpu_ms)
                wall.setdefault(name, []).append(start.wall_ms)
    dominant = {name: _dominant(stack.functions[name], python) for name in step_functions}
    return ColdStarts(cpu, wall, step_functions, dominant)


def report(starts: ColdStarts, rounds: int) -> str:
    baseline = SDK_ONLY
    rows = [
        [
            name,
            f"{starts.median(name):.0f}",
            f"{statistics.median(starts.wall_ms[name]):.0f}",
            f"{starts.ratio(name, baseline):.2f}x",
        ]
        for name in starts.cpu_ms
    ]
    groups = [*GROUPS, OTHER_GROUP]
    shares = [
        [name, *(f"{starts.dominant[name].get(group, 0.0) * 100:.0f}%" for group in groups)]
        for name in starts.step_functions
    ]
    saved = 1 - starts.median("ThumbnailFunction") / starts.median(NO_BYTECODE)
    return "\n".join(
        [
            f"{rounds} rounds; ms: CPU time of importing the handler module in a fresh process"
            " (wall: for reference), as a multiple of a function that only imports boto3",
            table(["function", "init ms", "wall ms", "x import boto3"], rows),
            "",
            "What dominates each step's initialisation (share of its import self time):",
            table(["function", *groups], shares),
            "",
            pairs(
                [
                    (
                        "bytecode in the layer",
                        f"saves {saved * 100:.0f}% of the thumbnail function's initialisation",
                    ),
                    (
                        "aim of 300 ms per step",
                        f"importing boto3 alone takes {starts.median(SDK_ONLY):.0f} ms here",
                    ),
                ]
            ),
        ]
    )


def layer_report() -> tuple[str, dict[str, int]]:
    """Each built layer's packages and total unzipped size; returns the totals too."""
    # The default architecture (x86_64) first.
    layers = sorted(
        artifact.BUILD_DIR.glob("CoreLayer*/python"), key=lambda p: "Arm" in p.parent.name
    )
    sizes = {path.parent.name: artifact.layer_packages(path) for path in layers}
    by_name = {layer: {p.name: p for p in packages} for layer, packages in sizes.items()}
    first = sizes[layers[0].parent.name]  # its order: largest first
    rows = []
    for package in first:
        cells = [
            f"{found[package.name].bytes / 1e6:.1f}" if package.name in found else ""
            for found in by_name.values()
        ]
        rows.append([package.name, package.version, *cells])
    totals = {layer: sum(p.bytes for p in packages) for layer, packages in sizes.items()}
    rows.append(["total", "", *(f"{total / 1e6:.1f}" for total in totals.values())])
    text = table(["package", "version", *(f"{layer} MB" for layer in sizes)], rows, left=2)
    return text + "\nMB: 10^6 bytes unzipped, bytecode and bundled libraries included", totals
