"""The artefact `sam build` makes (`make build`), loaded as Lambda loads it.

Each function is started in a fresh interpreter of the runtime's Python version, with
no virtualenv: its own folder, the layer and the runtime's AWS SDK only, Lambda's
environment variables and its template Environment. These tests fail when the layer
cannot be built for the Lambda platform, misses a dependency, ships a second AWS SDK
or development code, or outgrows its budget.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from photoflow_local import artifact
from photoflow_local.shape import load_shape
from photoflow_local.template import load_sam
from tests.support import ROOT

# What the template declares (tests/unit/test_shape.py pins the current lists).
SHAPE = load_shape(ROOT / "template.yaml")
STEP_FUNCTIONS = SHAPE.step_functions
ALL_FUNCTIONS = SHAPE.functions


@pytest.fixture(scope="module")
def built() -> artifact.BuiltStack:
    return artifact.load_built_stack()


@pytest.fixture(scope="module")
def python() -> Path:
    return artifact.find_python(artifact.runtime())


@pytest.fixture(scope="module")
def cold_starts(built: artifact.BuiltStack, python: Path) -> dict[str, artifact.ColdStart]:
    """One cold start of each function, shared by the tests that read it."""
    return {name: artifact.cold_start(built.functions[name], python) for name in ALL_FUNCTIONS}


def test_the_build_has_every_function_and_the_default_architecture_layer(
    built: artifact.BuiltStack,
) -> None:
    assert sorted(built.functions) == sorted(ALL_FUNCTIONS)
    assert list(built.layers) == ["CoreLayerX8664"]
    for function in built.functions.values():
        assert function.runtime == "python3.12"
        assert function.layer_dirs == (built.layers["CoreLayerX8664"],)
        assert (function.code_dir / "app.py").is_file()


@pytest.mark.parametrize("logical_id", ALL_FUNCTIONS)
def test_each_function_starts_from_its_folder_the_layer_and_the_runtime_alone(
    built: artifact.BuiltStack, cold_starts: dict[str, artifact.ColdStart], logical_id: str
) -> None:
    function = built.functions[logical_id]
    start = cold_starts[logical_id]

    assert start.handler_callable
    allowed = (function.code_dir, *function.layer_dirs, artifact.RUNTIME_SDK_DIR)
    assert start.foreign_modules(allowed) == {}
    layer = str(function.layer_dirs[0])
    from_layer = {
        name for name, origin in start.origins.items() if (origin or "").startswith(layer)
    }
    assert {"photoflow", "aws_lambda_powertools", "pydantic"} <= from_layer
    sdk = str(artifact.RUNTIME_SDK_DIR)
    assert (start.origins["botocore"] or "").startswith(sdk), start.origins["botocore"]


@pytest.mark.parametrize("logical_id", ALL_FUNCTIONS)
def test_every_module_a_function_loads_at_start_up_ships_its_bytecode(
    built: artifact.BuiltStack, cold_starts: dict[str, artifact.ColdStart], logical_id: str
) -> None:
    # Lambda's /opt is read-only: a module without .pyc is compiled on every cold start.
    function = built.functions[logical_id]
    start = cold_starts[logical_id]
    layer = function.layer_dirs[0]
    sources = [
        Path(origin)
        for origin in start.origins.values()
        if origin and origin.startswith(str(layer)) and origin.endswith(".py")
    ]
    assert len(sources) > 100
    missing = [
        str(source.relative_to(layer))
        for source in sources
        if not artifact.bytecode_path(source, function.runtime).is_file()
    ]
    assert missing == []


def _layer_dirs() -> list[Path]:
    return sorted((artifact.BUILD_DIR).glob("CoreLayer*/python"))


def test_both_architectures_are_built_with_their_own_binaries() -> None:
    layers = {path.parent.name: path for path in _layer_dirs()}
    assert sorted(layers) == ["CoreLayerArm64", "CoreLayerX8664"]
    for name, architecture in (("CoreLayerX8664", "x86_64"), ("CoreLayerArm64", "arm64")):
        libraries = list(layers[name].rglob("*.so")) + list(layers[name].rglob("*.so.*"))
        assert len(libraries) > 20, name
        machines = {artifact.elf_machine(path) for path in libraries}
        assert machines == {artifact.ELF_MACHINES[architecture]}, (name, machines)


@pytest.mark.parametrize("layer", ["CoreLayerX8664", "CoreLayerArm64"])
def test_the_layer_holds_no_aws_sdk_no_development_code_and_fits_its_budget(layer: str) -> None:
    python_dir = artifact.BUILD_DIR / layer / "python"
    packages = {
        package.name.lower().replace("_", "-") for package in artifact.layer_packages(python_dir)
    }

    # The runtime provides the SDK; a copy in /opt/python would shadow it.
    assert packages.isdisjoint({"boto3", "botocore", "s3transfer", "urllib3", "jmespath"})
    assert not (python_dir / "photoflow_local").exists()
    assert not (python_dir / "photoflow" / "imaging" / "samples.py").exists()
    assert [p for p in python_dir.rglob("*") if p.name in ("tests", "test", "conftest.py")] == []
    # Exactly what src/requirements.txt pins, plus the photoflow package.
    pinned = {_name(line) for line in _requirement_lines(ROOT / "src" / "requirements.txt")}
    assert packages == pinned | {"photoflow"}
    total = sum(package.bytes for package in artifact.layer_packages(python_dir))
    assert total <= artifact.LAYER_BUDGET_BYTES, f"{layer}: {total:,} bytes"


def _requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_layer_pins_the_versions_the_tests_run_with() -> None:
    lock = {
        _name(line): line.split("==")[1]
        for line in _requirement_lines(ROOT / "requirements/dev.lock")
    }
    for requirement in _requirement_lines(ROOT / "src" / "requirements.txt"):
        name, version = _name(requirement), requirement.split("==")[1]
        assert lock.get(name) == version, requirement


def test_the_layer_is_built_for_the_template_runtime() -> None:
    sam = load_sam(ROOT / "template.yaml")
    runtime = sam["Globals"]["Function"]["Runtime"]
    makefile = (ROOT / "src" / "Makefile").read_text()
    version = re.search(r"^LAMBDA_PYTHON_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert version is not None
    assert f"python{version.group(1)}" == runtime
    layers = [
        resource["Properties"]
        for resource in sam["Resources"].values()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    ]
    assert len(layers) == 2
    assert all(layer["CompatibleRuntimes"] == [runtime] for layer in layers)
