"""The deployment artefact that `sam build` makes, loaded the way Lambda loads it.

`make build` runs `sam build` into ``.aws-sam/build`` and installs a stand-in for
what Lambda's Python runtime provides besides the standard library (the AWS SDK,
``requirements/lambda-runtime.txt``) into ``.aws-sam/runtime-sdk``. From those,
this module starts each function as a Lambda execution environment would: a fresh
interpreter of the runtime's Python version, isolated from any virtualenv, with
``sys.path`` as Lambda sets it (the function's folder, the layer's ``python/``, the
runtime's SDK), Lambda's reserved environment variables and the function's own
Environment from the template. The tests check what it imports and from where;
``make bench`` times its initialisation.

``python -m photoflow_local.artifact python`` prints the interpreter for the
template's Runtime (the Makefile puts it on PATH for the layer's bytecode).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflow_local.names import REGION, DeployedNames
from photoflow_local.template import TranslatedTemplate, load_sam, translate

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
RUNTIME_SDK_DIR = ROOT / ".aws-sam" / "runtime-sdk"
TEMPLATE = ROOT / "template.yaml"
# Where Lambda mounts the function's code and the layers; only used as values of the
# variables Lambda sets, the files stay where `sam build` put them.
LAMBDA_TASK_ROOT = "/var/task"
# The largest a CoreLayer may be unzipped (Lambda allows 250 MB for a function and all
# its layers together; the smaller, the faster a cold start fetches it).
LAYER_BUDGET_BYTES = 45_000_000
# ELF e_machine of a shared library, by the template's Architecture.
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}


class ArtifactError(RuntimeError):
    """The artefact, or what it takes to load it, is missing or broken."""


def runtime(template: Path = TEMPLATE) -> str:
    """The Python runtime every function uses, e.g. ``python3.12`` (Globals.Function)."""
    sam = load_sam(template)
    name = sam.get("Globals", {}).get("Function", {}).get("Runtime")
    if not isinstance(name, str) or not re.fullmatch(r"python3\.\d+", name):
        raise ArtifactError(f"Globals.Function.Runtime is not a Python runtime: {name!r}")
    return name


def _reports_version(candidate: str, version: str) -> bool:
    try:
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def find_python(runtime_name: str) -> Path:
    """An interpreter of the runtime's version: on PATH, or one pyenv installed."""
    version = runtime_name.removeprefix("python")
    candidates: list[str] = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        versions = Path(root.stdout.strip()) / "versions"
        if root.returncode == 0 and versions.is_dir():
            installed = sorted(versions.glob(f"{version}.*/bin/python{version}"), reverse=True)
            candidates.extend(str(path) for path in installed)
    for candidate in candidates:
        if _reports_version(candidate, version):
            return Path(candidate)
    raise ArtifactError(
        f"no Python {version} interpreter (the template's Runtime {runtime_name}) on PATH "
        f"or in pyenv: install one (e.g. `pyenv install {version}`) to build and check the layer"
    )


# ---------------------------------------------------------------- the built stack
@dataclass(frozen=True)
class BuiltFunction:
    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    memory_mb: int
    layer_dirs: tuple[Path, ...]  # each layer's python/ folder, in the function's order
    environment: dict[str, str]  # the template's Environment, resolved

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


@dataclass(frozen=True)
class BuiltStack:
    """`sam build`'s output, translated as `sam deploy` would deploy it."""

    build_dir: Path
    template: TranslatedTemplate
    functions: dict[str, BuiltFunction]
    layers: dict[str, Path]  # deployed layer logical id -> its python/ folder


def load_built_stack(
    build_dir: Path = BUILD_DIR, parameter_overrides: dict[str, str] | None = None
) -> BuiltStack:
    """The functions and layers of ``build_dir/template.yaml`` as deployed with defaults."""
    built_template = build_dir / "template.yaml"
    if not built_template.is_file():
        raise ArtifactError(f"{built_template} is missing: run `make build` (sam build) first")
    template = translate(built_template, parameter_overrides, region=REGION)
    names = DeployedNames(template, parameter_overrides or {})

    def deployed(resource: dict[str, Any]) -> bool:
        condition = resource.get("Condition")
        return condition is None or names.resolver.condition(condition)

    layers: dict[str, Path] = {}
    layer_ids_by_arn: dict[str, str] = {}
    for logical_id, resource in template.resources.items():
        if resource["Type"] == "AWS::Lambda::LayerVersion" and deployed(resource):
            # The translator renames a layer <Id><hash>; its code path keeps the SAM id.
            source_id = next(
                sam_id for sam_id in template.code_paths if logical_id.startswith(sam_id)
            )
            layers[source_id] = template.code_paths[source_id] / "python"
            layer_ids_by_arn[names.ref(logical_id)] = source_id
    functions: dict[str, BuiltFunction] = {}
    for logical_id, resource in template.resources.items():
        if resource["Type"] != "AWS::Lambda::Function" or not deployed(resource):
            continue
        properties = names.properties(logical_id)
        layer_dirs = tuple(layers[layer_ids_by_arn[arn]] for arn in properties.get("Layers", []))
        variables = properties.get("Environment", {}).get("Variables", {})
        functions[logical_id] = BuiltFunction(
            logical_id=logical_id,
            code_dir=template.code_paths[logical_id],
            handler=properties["Handler"],
            runtime=properties["Runtime"],
            memory_mb=int(properties.get("MemorySize", 128)),
            layer_dirs=layer_dirs,
            environment={name: str(value) for name, value in variables.items()},
        )
    return BuiltStack(build_dir, template, functions, layers)


# ---------------------------------------------------------------- the layer's contents
@dataclass(frozen=True)
class PackageSize:
    name: str  # distribution name, or the top-level folder for code without one
    version: str
    bytes: int


def _disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def layer_packages(layer_python: Path) -> list[PackageSize]:
    """What each distribution in the layer weighs unzipped (its files, .libs and
    bytecode included), largest first."""
    owner: dict[str, tuple[str, str]] = {}  # top-level entry -> (distribution, version)
    for dist_info in layer_python.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        owner[dist_info.name] = (name, version)
        record = dist_info / "RECORD"
        if record.is_file():
            for line in record.read_text(encoding="utf-8").splitlines():
                top = line.split(",", 1)[0].split("/", 1)[0]
                if top and top != "..":
                    owner.setdefault(top, (name, version))
    sizes: dict[tuple[str, str], int] = {}
    entries = [p for p in layer_python.iterdir() if p.name != "__pycache__"]
    # Bytecode of top-level modules (typing_extensions.py) belongs to their distribution.
    entries += list((layer_python / "__pycache__").glob("*.pyc"))
    for entry in entries:
        top = f"{entry.name.split('.', 1)[0]}.py" if entry.suffix == ".pyc" else entry.name
        key = owner.get(top, (entry.name, ""))
        sizes[key] = sizes.get(key, 0) + _disk_bytes(entry)
    return sorted(
        (PackageSize(name, version, size) for (name, version), size in sizes.items()),
        key=lambda package: -package.bytes,
    )


def elf_machine(path: Path) -> int:
    """The e_machine field of an ELF file (little-endian, as both Lambda CPUs are)."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        raise ArtifactError(f"{path} is not an ELF file")
    return int.from_bytes(header[18:20], "little")


def bytecode_path(source: Path, runtime_name: str) -> Path:
    """Where the runtime's interpreter looks for ``source``'s compiled bytecode."""
    tag = "cpython-" + runtime_name.removeprefix("python").replace(".", "")
    return source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"


# ---------------------------------------------------------------- a cold start
# Runs in the fresh interpreter: import the handler's module (its module-level
# set-up runs: configuration, Logger, Tracer, Metrics), timing CPU and wall clock,
# then report where every loaded module came from.
_PROBE = """
import importlib, json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
cpu, wall = time.process_time(), time.perf_counter()
module = importlib.import_module(sys.argv[2])
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
handler = getattr(module, sys.argv[3], None)
origins = {
    name: getattr(loaded, "__file__", None)
    for name, loaded in list(sys.modules.items())
}
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "callable": callable(handler),
                  "origins": origins, "stdlib": sys.prefix}))
"""


@dataclass(frozen=True)
class ColdStart:
    cpu_ms: float
    wall_ms: float
    handler_callable: bool
    origins: dict[str, str | None]  # module -> file it was loaded from
    stdlib_prefix: str
    self_import_times_us: dict[str, int]  # with import_times: module -> its own microseconds

    def foreign_modules(self, allowed: tuple[Path, ...]) -> dict[str, str]:
        """Modules loaded from anywhere but ``allowed`` folders and the standard library."""
        roots = [str(path.resolve()) for path in allowed] + [self.stdlib_prefix]
        return {
            name: origin
            for name, origin in self.origins.items()
            if origin is not None and not any(origin.startswith(root) for root in roots)
        }


def lambda_environment(function: BuiltFunction) -> dict[str, str]:
    """The variables Lambda sets in an execution environment, then the function's own."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": LAMBDA_TASK_ROOT,
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": function.handler,
        # No credentials: start-up must not call AWS.
        **function.environment,
    }


def cold_start(
    function: BuiltFunction,
    python: Path,
    runtime_sdk: Path = RUNTIME_SDK_DIR,
    *,
    import_times: bool = False,
) -> ColdStart:
    """Start ``function`` once in a fresh, isolated interpreter, as a Lambda cold start."""
    if not runtime_sdk.is_dir():
        raise ArtifactError(f"{runtime_sdk} is missing: run `make build` first")
    search_path = [str(function.code_dir)] + [str(d) for d in function.layer_dirs]
    search_path.append(str(runtime_sdk))
    # -I: no site-packages, no user site, no PYTHON* variables; -B: Lambda's code
    # folders are read-only, so nothing is written back.
    command = [str(python), "-I", "-B"]
    if import_times:
        command += ["-X", "importtime"]
    command += ["-c", _PROBE, json.dumps(search_path), function.module, "lambda_handler"]
    done = subprocess.run(
        command,
        cwd=function.code_dir,
        env=lambda_environment(function),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ArtifactError(
            f"{function.logical_id} failed to start from the artefact:\n{done.stderr[-4000:]}"
        )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return ColdStart(
        cpu_ms=report["cpu_s"] * 1000,
        wall_ms=report["wall_s"] * 1000,
        handler_callable=report["callable"],
        origins=report["origins"],
        stdlib_prefix=report["stdlib"],
        self_import_times_us=_import_times(done.stderr) if import_times else {},
    )


_IMPORT_TIME = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \| *(\S+)$")


def _import_times(stderr: str) -> dict[str, int]:
    """Microseconds each module's own body took to import (-X importtime's self column)."""
    times: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _IMPORT_TIME.match(line)
        if match:
            times[match.group(2)] = int(match.group(1))
    return times


def main(argv: list[str]) -> int:
    if argv == ["python"]:
        try:
            sys.stdout.write(f"{find_python(runtime())}\n")
        except ArtifactError as error:
            sys.stderr.write(f"{error}\n")
            return 1
        return 0
    sys.stderr.write("usage: python -m photoflow_local.artifact python\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
