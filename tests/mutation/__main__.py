"""``python -m tests.mutation [MODULE ...]``: mutation testing of the core against its unit tests.

Prints, per core module, the mutants made and how many the unit tests killed, the
survivors by file and line, and the total. Mutants listed in equivalent.toml (each
with the reason it cannot change behaviour) are not run and do not count. Exits 1
when a module scores under ``--fail-under`` percent, or when equivalent.toml names a
mutant that no longer exists (so the reviewed list stays true).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import signal
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.mutation.mutants import Mutant
from tests.mutation.runner import (
    ROOT,
    SRC,
    Baseline,
    BaselineFailed,
    CoreModule,
    Outcome,
    deadline_for,
    mutants_of,
    run_baseline,
    run_in_children,
    tree_of,
    unit_test_files,
)

# The pure core: the key scheme and the imaging package. The rest of src/photoflow
# talks to AWS and is tested against the local stack (tests/integration), which is
# far too slow to run once per mutant.
CORE = (SRC / "photoflow" / "keys.py", *sorted((SRC / "photoflow" / "imaging").glob("*.py")))
EQUIVALENT = Path(__file__).with_name("equivalent.toml")
KILLED = ("killed", "timeout")


@dataclass(frozen=True)
class Equivalent:
    """An entry of equivalent.toml: ``occurrence`` tells apart the same change made twice
    in one function (1 is the first in the source); without it, the change must be unique."""

    module: str
    function: str
    change: str
    reason: str
    occurrence: int | None = None

    def matches(self, module: CoreModule, mutant: Mutant) -> bool:
        return (self.module, self.function, self.change) == (
            module.shown,
            mutant.function,
            mutant.change,
        ) and self.occurrence in (None, mutant.occurrence)


def load_equivalents(path: Path) -> list[Equivalent]:
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    equivalents = [
        Equivalent(
            e["module"], e["function"], e["change"], e["reason"].strip(), e.get("occurrence")
        )
        for e in entries
    ]
    for entry in equivalents:
        if not entry.reason:
            raise ValueError(f"{path.name}: no reason given for {entry}")
    return equivalents


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", help="core modules to mutate (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tried at once")
    parser.add_argument("--fail-under", type=float, default=90.0, help="minimum score, percent")
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    options = parser.parse_args(argv)

    # Stopped from outside, unwind as on Ctrl-C: the children are killed on the way out.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    started = time.monotonic()
    found = importlib.util.find_spec("photoflow")
    if found is None or found.origin != str(SRC / "photoflow" / "__init__.py"):
        parser.error(f"photoflow must be imported from {SRC} (it is {found and found.origin})")
    modules = [CoreModule.at(path) for path in CORE]
    if options.modules:
        modules = [m for m in modules if m.name in options.modules or m.shown in options.modules]
        if not modules:
            parser.error(f"no core module named {options.modules}")
    equivalents = load_equivalents(EQUIVALENT)

    _say(f"Baseline: the unit tests that import the core, traced over {len(modules)} modules")
    baseline = run_baseline(unit_test_files(ROOT / "tests" / "unit"), modules)
    _say(f"  {len(baseline.durations)} tests in {sum(baseline.durations.values()):.1f}s")

    outcomes: dict[str, list[Outcome]] = {}
    used: set[Equivalent] = set()
    for module in modules:
        outcomes[module.shown] = _mutate(module, baseline, equivalents, used, options.jobs)

    stale = [e for e in equivalents if e not in used and _in_scope(e, modules)]
    failed = _report(outcomes, stale, options.fail_under)
    if options.json:
        options.json.write_text(json.dumps(_as_json(outcomes), indent=2), encoding="utf-8")
    _say(f"\nMutation testing took {time.monotonic() - started:.0f}s")
    return 1 if failed else 0


def _repeated(mutant: Mutant, mutants: Sequence[Mutant]) -> bool:
    return any(
        (m.function, m.change) == (mutant.function, mutant.change) and m != mutant for m in mutants
    )


def _in_scope(entry: Equivalent, modules: Sequence[CoreModule]) -> bool:
    return any(entry.module == m.shown for m in modules)


def _mutate(
    module: CoreModule,
    baseline: Baseline,
    equivalents: Sequence[Equivalent],
    used: set[Equivalent],
    workers: int,
) -> list[Outcome]:
    source, mutants = mutants_of(module)
    outcomes: list[Outcome] = []
    jobs = []
    for mutant in mutants:
        entry = next((e for e in equivalents if e.matches(module, mutant)), None)
        if entry is not None and entry.occurrence is None and _repeated(mutant, mutants):
            raise ValueError(
                f"{EQUIVALENT.name}: {entry.change!r} in {entry.function} is made more than "
                "once there: say which with occurrence = N"
            )
        if entry is not None:
            used.add(entry)
            outcomes.append(Outcome(mutant, "equivalent", 0))
            continue
        tests = baseline.tests_for(module, mutant)
        if not tests:
            outcomes.append(Outcome(mutant, "uncovered", 0))
            continue
        jobs.append((mutant, module, tree_of(source, mutant), tests, deadline_for(baseline, tests)))

    results: dict[object, tuple[str, float, list[str]]] = {}

    def done(key: object, result: str, seconds: float, failed: list[str]) -> None:
        results[key] = (result, seconds, failed)
        finished = len(results) - 1  # the control run is one of them
        if finished and finished % 25 == 0:
            survived = sum(r == "passed" for r, _, _ in results.values()) - 1
            _say(f"  {finished}/{len(jobs)} run, {survived} survived so far")

    if not jobs:
        return outcomes
    # First the module unmutated, through the same machinery: it must pass.
    control = sorted(baseline.tests_of(module))
    control_job = ("control", module, None, control, deadline_for(baseline, control))
    run_in_children([control_job], workers, done)
    if results["control"][0] != "passed":
        raise BaselineFailed(f"{module.shown}: its unit tests fail without any mutant")

    started = time.monotonic()
    _say(f"{module.shown}: {len(mutants)} mutants, {len(jobs)} to run")
    run_in_children(jobs, workers, done)
    for mutant, _, _, tests, _ in jobs:
        result, seconds, failed = results[mutant]
        status = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[result]
        killer = failed[0] if failed else None
        outcomes.append(Outcome(mutant, status, len(tests), seconds, killer))
    _say(f"  done in {time.monotonic() - started:.0f}s")
    return sorted(outcomes, key=lambda o: o.mutant.index)


def _report(outcomes: dict[str, list[Outcome]], stale: list[Equivalent], fail_under: float) -> bool:
    header = (
        f"{'module':<36} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>6} {'score':>7}"
    )
    _say("\n" + header)
    _say("-" * len(header))
    failed = False
    total: Counter[str] = Counter()
    for module, results in outcomes.items():
        counts = _counts(results)
        total.update(counts)
        if not counts["mutants"]:
            continue  # nothing to mutate (only imports and classes)
        score = _score(counts)
        mark = "" if score >= fail_under else f"  < {fail_under:.0f}%"
        failed = failed or score < fail_under
        _say(_row(module, counts, score) + mark)
    _say("-" * len(header))
    _say(_row("total", total, _score(total)))

    survivors = [
        (module, o)
        for module, results in outcomes.items()
        for o in results
        if o.status in ("survived", "uncovered")
    ]
    if survivors:
        _say("\nSurvivors (file:line  function  change):")
        for module, outcome in survivors:
            mutant = outcome.mutant
            note = "  [no test runs this line]" if outcome.status == "uncovered" else ""
            if mutant.occurrence > 1:
                note = f"  [occurrence {mutant.occurrence}]{note}"
            _say(f"  {module}:{mutant.line}  {mutant.function}  {mutant.change}{note}")
    if stale:
        failed = True
        _say(f"\n{EQUIVALENT.name} names mutants that no longer exist; review and remove:")
        for entry in stale:
            _say(f"  {entry.module}  {entry.function}  {entry.change}")
    return failed


def _counts(results: Sequence[Outcome]) -> Counter[str]:
    counts: Counter[str] = Counter(mutants=len(results))
    for outcome in results:
        if outcome.status in KILLED:
            counts["killed"] += 1
        elif outcome.status == "equivalent":
            counts["equivalent"] += 1
        else:
            counts["survived"] += 1
    return counts


def _score(counts: Counter[str]) -> float:
    judged = counts["mutants"] - counts["equivalent"]
    return 100.0 * counts["killed"] / judged if judged else 100.0


def _row(name: str, counts: Counter[str], score: float) -> str:
    return (
        f"{name:<36} {counts['mutants']:>7} {counts['killed']:>7} {counts['survived']:>8} "
        f"{counts['equivalent']:>6} {score:>6.1f}%"
    )


def _as_json(outcomes: dict[str, list[Outcome]]) -> dict[str, list[dict[str, object]]]:
    return {
        module: [
            {
                "line": o.mutant.line,
                "function": o.mutant.function,
                "change": o.mutant.change,
                "occurrence": o.mutant.occurrence,
                "status": o.status,
                "tests": o.tests,
                "seconds": round(o.seconds, 2),
                "killer": o.killer,
            }
            for o in results
        ]
        for module, results in outcomes.items()
    }


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
