"""``python -m bench``: every benchmark, the cost table and the targets; non-zero exit on a miss.

Run from the repository root (``make bench``). The options shorten a run while
working on the code; the targets are meant for the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from types import ModuleType

import pi_heif

from bench import (
    backfill,
    coldstart,
    cost,
    duplicates,
    imaging,
    inputs,
    localstack,
    machine,
    memory,
    modern,
    report,
    routes,
)
from bench.report import Target, ms, pairs, table, usd, write
from bench.settings import TEMPLATE, WorkflowSettings, load_settings
from bench.stats import percentile, time_interleaved
from photoflow.imaging import NEAR_DUPLICATE_DISTANCE, thumbnail_images
from photoflow.keys import DERIVATIVES_PREFIX
from photoflow_local.artifact import LAYER_BUDGET_BYTES
from photoflow_local.shape import Stage
from photoflow_local.template import load_sam

THUMBNAIL_FUNCTION = "ThumbnailFunction"
TARGET_PHOTO = "12 MP JPEG"  # the photo the speed targets and the cost table are measured on
LARGE_PHOTO = "24 MP JPEG"
# A step's initialisation against a function that only imports boto3, which any Python
# function calling AWS pays. Measured 1.9x-2.4x across runs; losing the layer's bytecode
# alone takes it past 4x, a second heavy framework would too.
COLD_START_LIMIT = 3.0
# The imaging work of each step function (photoflow.steps without S3).
STEP_CASES = {
    "MetadataFunction": imaging.METADATA,  # counts the pixel summary too: an upper bound
    "ThumbnailFunction": imaging.STEP_ALL,  # as deployed, every format
    "FilterFunction": imaging.FILTERS,
}
CASE_ORDER = (
    imaging.PLAIN,
    imaging.EIGHTH,
    imaging.SINGLE,
    imaging.STEP,
    imaging.STEP_ALL,
    imaging.WEBP,
    imaging.AVIF,
    imaging.VIPS,
    imaging.NAIVE,
    imaging.FILTERS,
    imaging.METADATA,
    imaging.METADATA_ORIGINAL,
)
SIDE_BY_SIDE = ((imaging.STEP, imaging.VIPS), (imaging.SINGLE, imaging.EIGHTH))
# No derivative may be further than this from the slow route's (a LANCZOS resize of the
# full decode): the lowest the route before the near-miss decodes measured was 32.6 dB
# (the 256 px thumbnail of the 12 MP JPEG: JPEG's loss at that size, not the resize).
PSNR_FLOOR_DB = 32.0
DUPLICATE_PHOTOS = 30  # generated photos, each with every kind of near-copy
DUPLICATE_DISTANCES = range(0, 26, 2)  # a 64-bit median pHash differs in an even number of bits
REPROCESS_WORKFLOW = "ReprocessWorkflow"
# Indexes of the photo table keyed by one value for every photo: ByCreatedAt, keyed by
# listPartition (photoflow.photos.LIST_PARTITION) so that the reconciler can sweep by date.
SINGLE_KEY_INDEXES = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=9, help="timed runs per case (JPEGs)")
    parser.add_argument("--batch", type=int, default=100, help="photos through the local stack")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch < 1:
        parser.error("--rounds and --batch must be at least 1")
    started = time.monotonic()

    settings = load_settings()
    prices = cost.load_prices()
    pyvips = routes.load_pyvips()
    pi_heif.options.DECODE_THREADS = 1  # every route is measured on one thread

    report.section("Machine")
    write(pairs(machine.describe(pyvips)))
    report.section("Configuration (template.yaml defaults)")
    write(_configuration(settings))

    report.section("Inputs (deterministic, drawn by photoflow_local.samples)")
    photos = inputs.imaging_photos()
    write(_inputs(photos))

    report.section("Imaging: single-threaded, medians of interleaved runs")
    results = _imaging_results(photos, settings, pyvips, args.rounds)
    target, large = results[TARGET_PHOTO], results[LARGE_PHOTO]

    report.section(f"Modern formats: encoder effort against time and bytes, {TARGET_PHOTO}")
    modern_choices = _modern_report(target, settings, prices, args.rounds)

    report.section("Near-duplicates: perceptual hashes of near-copies and of different photos")
    near_rates = _duplicates_report(settings)

    report.section(f"Peak memory, {LARGE_PHOTO}: a fresh process per step (RSS high-water mark)")
    peaks = _peak_memory(large, settings)

    report.section("The deployment artefact (sam build): layer size per package")
    layer_table, layer_totals = coldstart.layer_report()
    write(layer_table)

    report.section("Cold starts from the artefact, as in a Lambda execution environment")
    starts = coldstart.measure(args.rounds, settings.step_functions)
    write(coldstart.report(starts, args.rounds))

    report.section("Local stack: the whole workflow, upload to notification")
    stack_photos = inputs.stack_photos()
    stack_imaging = _imaging_alone(stack_photos[0], settings)
    write(f"{args.batch} photos through the local stack (nothing is printed while it runs) ...")
    stack = localstack.run_batch(stack_photos, args.batch)
    overhead = _stack_report(stack, settings, stack_imaging)

    report.section("Cost per 1,000 photos (us-east-1 list prices; check before quoting)")
    _cost_report(settings, prices, target, stack)

    report.section("Reprocessing at scale: a backfill on AWS at default limits (a model)")
    _scale_report(settings, prices, target, stack, stack.reprocess_items_per_s)

    report.section("Targets")
    thumbnail_peak = next(peak.step_mb for peak in peaks if peak.step == "thumbnail step")
    targets = [
        *_imaging_targets(results, near_rates, settings.smallest_size),
        *modern_choices,
        Target("thumbnail step peak memory, 24 MP JPEG", thumbnail_peak, 160.0, "MB", strict=True),
        Target("local stack overhead over the three Lambda steps", overhead, 30.0, "%"),
        *(
            Target(f"{layer} unzipped", total / 1e6, LAYER_BUDGET_BYTES / 1e6, "MB")
            for layer, total in layer_totals.items()
        ),
        *(
            Target(
                f"{function} initialisation / import boto3 only",
                starts.ratio(function, coldstart.SDK_ONLY),
                COLD_START_LIMIT,
                "x",
            )
            for function in settings.step_functions
        ),
    ]
    write(table(["target", "measured", "limit", ""], [t.row() for t in targets]))
    verdicts = [t.verdict for t in targets]
    failed = verdicts.count(report.FAIL)
    write(
        f"\n{verdicts.count(report.PASS)} met, {failed} missed, {verdicts.count(report.SKIP)}"
        f" skipped (not measurable here); total run time {time.monotonic() - started:.0f} s"
    )
    return 1 if failed else 0


def _imaging_results(
    photos: Sequence[inputs.BenchPhoto],
    settings: WorkflowSettings,
    pyvips: ModuleType | None,
    jpeg_rounds: int,
) -> dict[str, imaging.PhotoResult]:
    results = {}
    for photo in photos:
        is_jpeg = photo.fmt == "JPEG"
        rounds = jpeg_rounds if is_jpeg else max(3, jpeg_rounds // 2)
        result = imaging.measure_photo(photo, settings.imaging, pyvips, rounds, full=is_jpeg)
        results[photo.label] = result
        write(_imaging_table(result, rounds))
    return results


def _imaging_targets(
    results: dict[str, imaging.PhotoResult],
    near_rates: duplicates.DistanceRates,
    smallest: int,
) -> list[Target]:
    """The imaging core's targets: speed, quality and the duplicate threshold's errors."""
    target, large = results[TARGET_PHOTO], results[LARGE_PHOTO]
    return [
        Target(
            "thumbnail step, 12 MP JPEG / plain decode",
            target.ratio(imaging.STEP, imaging.PLAIN),
            1.3,
            "x",
        ),
        Target(
            "thumbnail step, 12 MP JPEG / pyvips route",
            target.ratio(imaging.STEP, imaging.VIPS),
            1.2,
            "x",
        ),
        *(
            Target(
                f"thumbnail step, {label} / pyvips route",
                results[label].ratio(imaging.STEP, imaging.VIPS),
                1.1,
                "x",
            )
            for label in ("12 MP PNG", "12 MP WebP")
        ),
        Target(
            "filter step, 12 MP JPEG / plain decode",
            target.ratio(imaging.FILTERS, imaging.PLAIN),
            1.2,
            "x",
        ),
        Target("all three steps, 12 MP JPEG / plain decode", target.steps_ratio(), 2.5, "x"),
        *(
            Target(
                f"lowest derivative PSNR, {label}",
                result.lowest_psnr,
                PSNR_FLOOR_DB,
                "dB",
                floor=True,
            )
            for label, result in results.items()
        ),
        Target(
            "thumbnail step, 24 MP JPEG / plain decode",
            large.ratio(imaging.STEP, imaging.PLAIN),
            1.4,
            "x",
        ),
        Target(
            f"single {smallest} px thumbnail, 12 MP JPEG / 1/8-scale decode",
            target.ratio(imaging.SINGLE, imaging.EIGHTH),
            1.15,
            "x",
        ),
        Target(
            f"metadata step from the {smallest} px derivative, 12 MP JPEG",
            target.timings[imaging.METADATA].median_ms,
            10.0,
            "ms",
            strict=True,
        ),
        Target(
            f"different photos within the duplicate threshold ({NEAR_DUPLICATE_DISTANCE} bits)",
            near_rates.false_positive_rate * 100,
            0.0,
            "%",
        ),
        Target(
            f"near-copies beyond the duplicate threshold ({NEAR_DUPLICATE_DISTANCE} bits)",
            near_rates.miss_rate * 100,
            25.0,
            "%",
        ),
    ]


def _configuration(settings: WorkflowSettings) -> str:
    config = settings.imaging
    return pairs(
        [
            ("thumbnail sizes", ", ".join(map(str, config.thumbnail_sizes))),
            ("filters", f"{', '.join(config.filters)}, at {config.filter_max_edge} px"),
            ("JPEG quality", str(config.jpeg_quality)),
            ("square thumbnail", f"{config.square_thumbnail_size} px (0: none)"),
            (
                "modern formats",
                ", ".join(
                    f"{encoder.name} quality {encoder.quality} effort {encoder.effort}"
                    for encoder in config.modern
                )
                or "none",
            ),
            ("limits", f"{config.max_pixels:,} pixels, {config.max_photo_bytes:,} bytes"),
            ("function memory", ", ".join(f"{k} {v} MB" for k, v in settings.memory_mb.items())),
            ("workflow type", settings.workflow_type),
        ]
    )


def _inputs(photos: Sequence[inputs.BenchPhoto]) -> str:
    rows = [
        [
            photo.label,
            f"{photo.width}x{photo.height}",
            f"{len(photo.data) / 1e6:.2f} MB",
            f"{photo.bits_per_pixel:.2f}",
            photo.note,
        ]
        for photo in photos
    ]
    low, high = inputs.PHOTO_LIKE_BITS_PER_PIXEL
    reference = next(photo for photo in photos if photo.label == TARGET_PHOTO)
    verdict = "yes" if low <= reference.bits_per_pixel <= high else "NO"
    return (
        table(["photo", "pixels", "size", "bits/pixel", "note"], rows, left=2)
        + f"\nAt quality {inputs.QUALITY}, with camera EXIF and GPS. Photo-like size at"
        + f" {reference.label} ({low:g}-{high:g} bits/pixel, like camera JPEGs): {verdict}"
    )


def _imaging_table(result: imaging.PhotoResult, rounds: int) -> str:
    plain = result.timings[imaging.PLAIN]
    rows = [
        [
            case,
            ms(result.timings[case].median_ms),
            ms(result.timings[case].median_wall_ms),
            f"{result.timings[case].ratio_to(plain):.2f}x",
        ]
        for case in CASE_ORDER
        if case in result.timings
    ]
    lines = [
        f"\n{result.photo.label}, {rounds} rounds (ms: process CPU time; wall: for reference)",
        table(["case", "ms", "wall ms", "x plain decode"], rows),
    ]
    for case, baseline in SIDE_BY_SIDE:
        ratio = result.ratio(case, baseline)
        if ratio is not None:
            lines.append(f"{case} / {baseline}: {ratio:.2f}x")
    steps = result.steps_ratio()
    if steps is not None:
        lines.append(f"all three steps of one photo / {imaging.PLAIN}: {steps:.2f}x")
    lines += [f"note: {note}" for note in result.notes]
    fidelity = [
        [entry.derivative, f"{entry.size[0]}x{entry.size[1]}", f"{entry.psnr_db:.1f}"]
        for entry in result.fidelity
    ]
    lines += [
        "PSNR of each derivative against a LANCZOS resize of the full decode (filters: their"
        " textbook definition on that resize):",
        table(["derivative", "size", "PSNR dB"], fidelity),
    ]
    return "\n".join(lines)


def _modern_report(
    target: imaging.PhotoResult, settings: WorkflowSettings, prices: cost.Prices, rounds: int
) -> list[Target]:
    """Print each modern format's effort sweep; the targets hold the template's choice to it."""
    config = settings.imaging
    memory_mb = settings.memory_mb[THUMBNAIL_FUNCTION]
    images = [
        image
        for _, image in thumbnail_images(target.photo.data, config.thumbnail_sizes, config.limits)
    ]
    vcpu = 1 / cost.cpu_share_factor(memory_mb, prices)
    targets = []
    for encoder in config.modern:
        candidates = modern.sweep(images, encoder, max(2, rounds // 3))
        chosen = modern.choose(candidates, prices, memory_mb)
        smallest = min(candidate.total_bytes for candidate in candidates)
        rows = [
            [
                str(candidate.encoder.effort),
                ms(candidate.ms),
                f"{candidate.total_bytes / 1e3:.1f}",
                f"{candidate.total_bytes / smallest:.2f}x",
                f"{candidate.largest_psnr_db:.1f}",
                usd(1000 * modern.cost_per_photo(candidate, prices, memory_mb)),
                ("configured " if candidate.encoder == encoder else "")
                + ("cheapest" if candidate is chosen else ""),
            ]
            for candidate in candidates
        ]
        effort = "method" if encoder.name == "webp" else "speed"
        write(
            f"\n{encoder.name} at quality {encoder.quality}, every size"
            f" ({', '.join(map(str, config.thumbnail_sizes))})"
        )
        write(table([effort, "ms", "KB", "x smallest", "PSNR dB", "$/1,000", ""], rows))
        configured = next(c for c in candidates if c.encoder == encoder)
        targets.append(
            Target(
                f"{encoder.name} {effort} {encoder.effort}: cost / cheapest effort measured",
                modern.cost_per_photo(configured, prices, memory_mb)
                / modern.cost_per_photo(chosen, prices, memory_mb),
                modern.COST_SLACK,
                "x",
            )
        )
    write(
        report.notes(
            [
                f"$/1,000 photos: the encodes' CPU time as Lambda bills it at {memory_mb} MB"
                f" (a {memory_mb} MB function has {vcpu:.2f} of a vCPU), plus every file sent"
                f" {modern.DOWNLOADS_PER_FILE} times (S3 transfer out; the download count is an"
                " assumption). PSNR: the largest size against its pixels before encoding.",
            ]
        )
    )
    return targets


def _duplicates_report(settings: WorkflowSettings) -> duplicates.DistanceRates:
    """Print the distances and the rates per threshold; returns the rates at the code's."""
    result = duplicates.measure(DUPLICATE_PHOTOS, settings.imaging)
    rows = [
        [
            name,
            str(min(values)),
            f"{sorted(values)[len(values) // 2]}",
            str(max(values)),
            f"{sum(result.banded[name]) / len(values) * 100:.0f}%",
        ]
        for name, values in result.near.items()
    ]
    rows.append(
        [
            "different photos",
            str(min(result.different)),
            str(sorted(result.different)[len(result.different) // 2]),
            str(max(result.different)),
            "",
        ]
    )
    write(
        f"{result.photos} generated photos of {duplicates.PHOTO_SIZE[0]}x"
        f"{duplicates.PHOTO_SIZE[1]}, each hashed through the thumbnail route with its"
        f" near-copies; {len(result.different):,} pairs of different photos (originals, and"
        " near-copies against other originals). Hamming distances in bits, of 64:"
    )
    write(table(["pair", "min", "median", "max", "share a band"], rows))
    rates = result.rates(DUPLICATE_DISTANCES)
    rows = [
        [
            str(rate.distance),
            f"{rate.false_positive_rate * 100:.2f}%",
            f"{rate.miss_rate * 100:.1f}%",
            "<- in the code" if rate.distance == NEAR_DUPLICATE_DISTANCE else "",
        ]
        for rate in rates
    ]
    write(
        "\nTaken for duplicates within each distance: different photos (false positives)"
        " and near-copies left out (misses)"
    )
    write(table(["distance", "false positives", "misses", ""], rows))
    write(
        f"Chosen by this run (no false positives, fewest misses):"
        f" {duplicates.choose_threshold(rates)} bits; in the code: {NEAR_DUPLICATE_DISTANCE}."
    )
    write(
        "The lookup (photoflow.duplicates) queries the table's four hash band indexes: it finds"
        f" {result.lookup_recall(NEAR_DUPLICATE_DISTANCE) * 100:.0f}% of the near-copies within"
        f" {NEAR_DUPLICATE_DISTANCE} bits (every copy within 3 bits shares a band)."
    )
    near = [d for values in result.near.values() for d in values]
    return duplicates.error_rates(near, result.different, NEAR_DUPLICATE_DISTANCE)


def _peak_memory(large: imaging.PhotoResult, settings: WorkflowSettings) -> list[memory.PeakMemory]:
    with tempfile.TemporaryDirectory(prefix="photoflow-bench-") as folder:
        photo, derivative = Path(folder, "photo.jpg"), Path(folder, "derivative.jpg")
        photo.write_bytes(large.photo.data)
        derivative.write_bytes(large.smallest_thumbnail)
        peaks = memory.measure_steps(photo, derivative, settings.imaging)
    rows = [
        [
            peak.step,
            f"{peak.process_mb:.0f}",
            "(baseline)" if peak.step == memory.IDLE else f"{peak.step_mb:.0f}",
        ]
        for peak in peaks
    ]
    write(table(["step", "process peak MB", "step MB (peak - idle)"], rows))
    write("idle: an interpreter that imported the same modules. Peaks: the highest of 3 processes.")
    return peaks


def _imaging_alone(photo: bytes, settings: WorkflowSettings) -> dict[str, float]:
    """Each step function's imaging time on a local-stack photo: its run less S3 and framework."""
    config = settings.imaging
    smallest = routes.thumbnail_step(photo, config)[-1]
    cases: dict[str, Callable[[], object]] = {
        imaging.METADATA: partial(routes.metadata_step, photo, smallest, config),
        imaging.STEP_ALL: partial(routes.thumbnail_step_every_format, photo, config),
        imaging.FILTERS: partial(routes.filter_step, photo, config),
    }
    timings = time_interleaved(cases, 5)
    return {function: timings[case].median_ms for function, case in STEP_CASES.items()}


def _stack_report(
    stack: localstack.StackResult, settings: WorkflowSettings, imaging_alone: dict[str, float]
) -> float:
    """Print the local stack's figures; returns its overhead over the three steps, in percent."""
    width, height = inputs.STACK_PHOTO_SIZE
    steps = settings.step_functions
    per_photo = stack.wall_s / stack.photo_count * 1000
    steps_ms = stack.run_ms_per_photo(steps)
    others = [name for name in stack.batch_runs_ms if name not in steps]
    others_ms = stack.run_ms_per_photo(others)
    # One photo in flight: its execution against the critical path of its three steps
    # (metadata, then the slower Parallel branch), as their sandboxes timed them.
    critical_ms = stack.critical_path_ms(settings.stages)
    execution_ms = statistics.median(stack.lone_execution_ms)
    overhead = (execution_ms / critical_ms - 1) * 100 if critical_ms else float("inf")
    write(
        f"{stack.photo_count} photos of {width}x{height} ({width * height / 1e6:.1f} MP), JPEG"
        f" q{inputs.QUALITY}, {stack.photo_bytes / 1e3:.0f} KB on average, uploaded back to back"
        " through the local API; done when PhotoProcessed arrives on the subscriber queue."
    )
    latencies = stack.latencies_s
    write(
        pairs(
            [
                ("throughput", f"{stack.photo_count / stack.wall_s:.2f} photos/s"),
                (
                    "upload to notification",
                    f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95"
                    f" {percentile(latencies, 0.95) * 1000:.0f} ms (queued behind the batch)",
                ),
                (
                    "one photo at a time",
                    f"p50 {statistics.median(stack.lone_latencies_s) * 1000:.0f} ms"
                    f" ({len(stack.lone_latencies_s)} photos, after {localstack.WARM_UP_PHOTOS}"
                    " warm-up photos)",
                ),
                ("wall time per photo", f"{per_photo:.0f} ms"),
                (
                    "function run time",
                    f"three steps {steps_ms:.0f} ms, others {others_ms:.0f} ms per photo"
                    " (summed over sandboxes running side by side on a loaded machine)",
                ),
                (
                    "one photo's execution",
                    f"{execution_ms:.0f} ms; its steps' critical path {critical_ms:.0f} ms"
                    f" ({_stages_text(settings.stages)})",
                ),
                (
                    "overhead over the steps",
                    f"{overhead:.0f}% (one photo's execution / its steps' critical path - 1)",
                ),
                (
                    "state transitions",
                    f"{statistics.median(stack.transitions):g} per execution"
                    f" ({min(stack.transitions)}-{max(stack.transitions)} in all"
                    f" {len(stack.transitions)} executions)",
                ),
                (
                    "task states",
                    ", ".join(f"{kind} {n}" for kind, n in stack.service_tasks.items())
                    + " per execution",
                ),
                ("failures", ", ".join(stack.failures) or "none"),
            ]
        )
    )
    rows = [
        [
            name,
            f"{stack.invocations_per_photo(name):.2f}",
            ms(statistics.median(runs)),
            ms(sum(runs) / stack.photo_count),
            ms(statistics.median(stack.lone_runs_ms.get(name, [0.0]))),
            ms(imaging_alone[name]) if name in imaging_alone else "",
        ]
        for name, runs in stack.batch_runs_ms.items()
    ]
    headers = ["function", "calls/photo", "median ms", "ms/photo", "alone ms", "imaging ms"]
    write("\n" + table(headers, rows))
    write(
        report.notes(
            [
                "Run times are what each function's sandbox process took, from receiving the"
                " invocation to replying (functions run side by side, up to two sandboxes each)."
                " alone: median run with one photo in flight. imaging: the step's imaging work on"
                " this photo; the rest of a step is S3 through the local AWS and the functions'"
                " framework. The overhead target compares one photo's whole execution (the"
                " DynamoDB and SNS states, the interpreter, the invocations) with the time its"
                " three Lambda steps ran on its critical path.",
            ]
        )
    )
    return overhead


def _cost_report(
    settings: WorkflowSettings,
    prices: cost.Prices,
    target: imaging.PhotoResult,
    stack: localstack.StackResult,
) -> None:
    usage, notes = _usage(settings, prices, target, stack)
    lines = cost.cost_lines(usage, prices)
    arm_lines = cost.cost_lines(usage, prices, "arm64")
    standard, express = cost.totals(lines)
    arm_standard, arm_express = cost.totals(arm_lines)
    rows = [
        [
            line.service,
            line.per_photo,
            *(usd(x) for x in (line.standard, line.express)),
            *(usd(x) for x in (arm.standard, arm.express)),
        ]
        for line, arm in zip(lines, arm_lines, strict=True)
    ]
    rows.append(["total", "", *(usd(x) for x in (standard, express, arm_standard, arm_express))])
    headers = ["per 1,000 photos", "per photo", "Standard", "Express"]
    write(table([*headers, "Standard arm64", "Express arm64"], rows, left=2))
    history_logs = cost.history_logging(usage, prices)
    cpu_bound = [
        dataclasses.replace(
            use, duration_ms=use.duration_ms * cost.cpu_share_factor(use.memory_mb, prices)
        )
        for use in usage.lambdas
        if use.function in STEP_CASES
    ] + [use for use in usage.lambdas if use.function not in STEP_CASES]
    cpu_standard, cpu_express = cost.totals(
        cost.cost_lines(dataclasses.replace(usage, lambdas=cpu_bound), prices)
    )
    write(
        report.notes(
            [
                "arm64: the functions' run times as measured here, priced at the arm64"
                " GB-second (Graviton's speed for this work is not measured here).",
                f"Standard - Express: {usd(standard - express)} per 1,000 photos"
                f" (Standard costs {standard / express:.1f}x Express).",
                f"Express keeping each execution's history as logs (level ALL with execution"
                f" data, {usage.history_bytes / 1e3:.0f} KB per execution): +{usd(history_logs)},"
                f" {usd(express + history_logs)} in all.",
                f"If the steps were CPU-bound at their memory's share of a CPU"
                f" ({prices.billing['lambda_full_vcpu_mb']:.0f} MB = 1 vCPU): Standard"
                f" {usd(cpu_standard)}, Express {usd(cpu_express)}.",
                f"S3 storage: {usage.stored_bytes / 1e6:.1f} MB per photo (original and"
                f" derivatives), {usd(cost.storage_per_month(usage, prices))} per 1,000 photos"
                " for each month kept.",
                *notes,
                f"Prices: bench/prices.json ({prices.region}, noted {prices.noted_on},"
                f" {prices.status}).",
            ]
        )
    )


def _scale_report(
    settings: WorkflowSettings,
    prices: cost.Prices,
    target: imaging.PhotoResult,
    stack: localstack.StackResult,
    reprocess_items_per_s: float | None = None,
) -> None:
    """The reprocessing estimate for 1M and 100M photos, fed with this run's measurements.

    ``reprocess_items_per_s``: the hook for the ReprocessWorkflow's own throughput on the
    local stack (photos per second through its Distributed Map), printed beside the
    estimate's inputs once the local engine runs the workflow and the bench measures it.
    """
    work, local = _reprocess_work(settings, prices, target, stack)
    limits, _ = backfill.load_limits()
    write(backfill.scale_report(work, prices, limits, local, reprocess_items_per_s))


def _reprocess_work(
    settings: WorkflowSettings,
    prices: cost.Prices,
    target: imaging.PhotoResult,
    stack: localstack.StackResult,
) -> tuple[backfill.PhotoWork, list[tuple[str, str]]]:
    """What reprocessing one photo uses: the steps' imaging times on the target photo (as the
    cost table counts them), the ReprocessWorkflow's path for the writes and publishes, the
    local stack's record and objects; and those figures for printing."""
    sam = load_sam(TEMPLATE)
    definition_uri = sam["Resources"][REPROCESS_WORKFLOW]["Properties"]["DefinitionUri"]
    definition = json.loads((TEMPLATE.parent / definition_uri).read_text(encoding="utf-8"))
    tasks = backfill.service_tasks(backfill.reprocess_path(definition))
    steps = [name for name in settings.step_functions if name in STEP_CASES]
    step_ms = {name: target.timings[STEP_CASES[name]].median_ms for name in steps}
    lambdas = [cost.LambdaUse(name, settings.memory_mb[name], step_ms[name], 1.0) for name in steps]
    # The upload workflow's lone executions less their steps' critical path leave the time
    # of its service states (DynamoDB, SNS) and hand-offs: shared out per service state.
    upload_services = sum(n for kind, n in stack.service_tasks.items() if kind != "lambda")
    orchestration_ms = max(
        0.0,
        statistics.median(stack.lone_execution_ms) - stack.critical_path_ms(settings.stages),
    )
    per_service_ms = orchestration_ms / max(1, upload_services)
    services = sum(n for kind, n in tasks.items() if not kind.startswith("lambda"))
    critical = [
        max(stage, key=lambda branch: sum(step_ms.get(name, 0.0) for name in branch))
        for stage in settings.stages
    ]
    steps_ms = sum(step_ms.get(name, 0.0) for branch in critical for name in branch)
    work = backfill.PhotoWork(
        lambdas=lambdas,
        photo_ms=steps_ms + services * per_service_ms,
        item_bytes=stack.item_bytes,
        record_writes=tasks.get("dynamodb:updateItem", 0),
        full_indexes=settings.table_indexes,
        single_key_indexes=SINGLE_KEY_INDEXES,
        keyed_indexes=settings.keyed_indexes,
        s3_gets=len(steps),
        s3_puts=stack.objects_per_photo.get(DERIVATIVES_PREFIX.rstrip("/"), 0.0),
        sns_publishes=tasks.get("sns:publish", 0),
        critical_steps=tuple(name for branch in critical for name in branch),
    )
    units = backfill.write_units(work, prices)
    local = [
        (
            "steps (imaging, one core)",
            ", ".join(f"{u.function} {u.duration_ms:.0f} ms at {u.memory_mb} MB" for u in lambdas),
        ),
        ("Lambda time per photo", f"{work.lambda_seconds * 1000:.0f} ms"),
        (
            "one photo through a child",
            f"{work.photo_ms:.0f} ms: the steps' critical path {steps_ms:.0f} ms + {services}"
            f" service states x {per_service_ms:.1f} ms (the upload workflow's, measured)",
        ),
        (
            "its record",
            f"{stack.item_bytes:,} bytes: {units} WRU per write, {work.record_writes} writes,"
            f" {work.full_indexes} indexes of every attribute",
        ),
        ("S3 per photo", f"{work.s3_gets:g} GET (the original), {work.s3_puts:g} PUT"),
        ("SNS per photo", f"{work.sns_publishes:g} publish"),
        (
            "upload workflow on the local stack",
            f"{stack.photo_count / stack.wall_s:.2f} photos/s (not the reprocessing workflow)",
        ),
    ]
    return work, local


def _stages_text(stages: Sequence[Stage]) -> str:
    """MetadataFunction, then the slower of ThumbnailFunction and FilterFunction"""
    return ", then ".join(
        " and ".join(branches)
        if len(branches := [" then ".join(b) for b in stage]) == 1
        else f"the slower of {' and '.join(branches)}"
        for stage in stages
    )


def _usage(
    settings: WorkflowSettings,
    prices: cost.Prices,
    target: imaging.PhotoResult,
    stack: localstack.StackResult,
) -> tuple[cost.PhotoUsage, list[str]]:
    """One photo's use of each service, from the measurements; and how each was counted."""
    # A step with no imaging case (one that does no imaging) is counted as the others are.
    imaged = [name for name in settings.step_functions if name in STEP_CASES]
    timings = target.timings
    lambdas = [
        cost.LambdaUse(name, settings.memory_mb[name], timings[STEP_CASES[name]].median_ms, 1.0)
        for name in imaged
    ]
    lambdas += [
        cost.LambdaUse(
            name,
            settings.memory_mb[name],
            statistics.median(stack.lone_runs_ms.get(name) or stack.batch_runs_ms[name]),
            stack.invocations_per_photo(name),
        )
        for name in stack.batch_runs_ms
        if name not in imaged
    ]
    # The lone executions' durations less their steps' critical path leave the
    # orchestration: the states, the DynamoDB and SNS calls, the hand-offs.
    orchestration_ms = max(
        0.0,
        statistics.median(stack.lone_execution_ms) - stack.critical_path_ms(settings.stages),
    )
    slower_branch = max(timings[imaging.STEP].median_ms, timings[imaging.FILTERS].median_ms)
    ingest_batch = statistics.mean(stack.ingest_batch_sizes) if stack.ingest_batch_sizes else 1.0
    writes = 1 + stack.service_tasks.get("dynamodb", 0)  # the API's record, then the workflow's
    final_units = cost.dynamodb_write_units(stack.item_bytes, prices)
    # Each "done once" record is written twice (in progress, then completed), under 1 KB.
    idempotency_writes = 2 * stack.idempotency_records_per_photo
    usage = cost.PhotoUsage(
        lambdas=lambdas,
        transitions=statistics.median(stack.transitions),
        express_duration_ms=orchestration_ms + timings[imaging.METADATA].median_ms + slower_branch,
        s3_puts=sum(stack.objects_per_photo.values()),
        s3_gets=len(settings.step_functions),
        # S3 to the ingest queue, the poller's receive and delete per batch; SNS to the
        # subscriber queue, and the subscriber's receive and delete.
        sqs_requests=1 + 2 / ingest_batch + 3,
        sns_publishes=stack.service_tasks.get("sns", 0),
        dynamodb_write_units=((writes - 1) + final_units) * (1 + settings.table_indexes)
        + settings.keyed_indexes
        + idempotency_writes,
        api_requests=1,
        lambda_log_bytes=stack.log_bytes_per_photo,
        history_bytes=statistics.median(stack.history_bytes),
        stored_bytes=len(target.photo.data) + target.derivative_bytes,
    )
    notes = [
        f"Photo: the {TARGET_PHOTO} above. Step functions: their step's median imaging time"
        " (S3 transfer not included); other functions, and steps that do no imaging: their"
        " median run on the local stack,"
        f" called per photo as there (the ingest function takes batches: {ingest_batch:.1f}"
        " photos on average here). Status polls (GET /photos/{id}) are not included.",
        "Standard: state transitions counted in the local executions' histories (every state"
        " entered, the Parallel and its branches included; retries would add more).",
        f"Express: metadata + the slower branch + {orchestration_ms:.0f} ms of orchestration"
        " (measured locally), billed in 100 ms and 64 MB steps.",
        f"S3: objects written per photo in the local run, one read of the original per step."
        f" DynamoDB: {writes} writes per photo, the last of {stack.item_bytes} bytes, the others"
        f" under 1 KB, each written to the table and its {settings.table_indexes} index(es)"
        f" of every attribute, and once to each of its {settings.keyed_indexes} keyed index(es);"
        f" and {idempotency_writes:g} writes of the ingest function's and the reconciler's"
        " records of what they did once (counted in the local run).",
        "CloudWatch Logs: the functions' own log lines in the local run; Lambda's START, END"
        " and REPORT lines, X-Ray traces and the free tiers are not included.",
    ]
    return usage, notes


if __name__ == "__main__":
    raise SystemExit(main())
