"""Reprocessing at scale: how long a backfill of N photos takes on AWS and what it costs.

A model on paper, no AWS: what one photo uses (the steps' measured run times and the
template's memory sizes, the record writes, S3 requests and publishes of the
ReprocessWorkflow's path) against the account's default limits (``limits.json``, each
with the AWS page it comes from) and the list prices (``prices.json``). For N photos it
gives the throughput each limit allows, the one that binds first, the wall time and the
cost line by line. The reprocessing workflow (statemachine/reprocess_workflow.asl.json):
a Standard parent whose Distributed Map hands batches of photo ids to Express children,
at most MaxConcurrency at once; each child runs its batch in an Inline Map.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cost
from bench.report import notes, pairs, table, usd

LIMITS = Path(__file__).resolve().parent / "limits.json"
GB = 2**30
KB = 1024
# A Scan reads items in 4 KB read units; an eventually consistent read costs half a unit.
READ_UNIT_BYTES = 4 * KB
EVENTUALLY_CONSISTENT = 0.5
# The parent's own states around its children: the Map state and the Succeed state.
PARENT_STATES = 2
# A manifest line: a photo id (32 hex digits) and its newline.
MANIFEST_LINE_BYTES = 33
REQUIRED_PRICES = (
    "dynamodb_read_unit",
    "dynamodb_export_gb",
    "s3_inventory_million_objects",
    "athena_tb_scanned",
)


@dataclass(frozen=True)
class AccountLimits:
    """The account's default limits (per second unless said), as limits.json gives them."""

    lambda_concurrency: float
    lambda_scaling_per_10s: float
    map_child_executions: float
    inline_map_concurrency: float
    express_starts_per_s: float
    standard_transitions_per_s: float
    express_max_duration_s: float
    dynamodb_table_write_units_per_s: float
    dynamodb_partition_write_units_per_s: float
    dynamodb_partition_read_units_per_s: float
    dynamodb_partition_bytes: float
    s3_puts_per_prefix_per_s: float
    s3_gets_per_prefix_per_s: float
    s3_prefix_partitions: float
    sns_publishes_per_s: float


@dataclass(frozen=True)
class LimitSource:
    value: float
    unit: str
    raisable: bool
    note: str
    source: str


def load_limits(path: Path = LIMITS) -> tuple[AccountLimits, dict[str, LimitSource]]:
    """The limits, and where each comes from (for printing)."""
    entries = json.loads(path.read_text(encoding="utf-8"))["limits"]
    names = [field.name for field in dataclasses.fields(AccountLimits)]
    missing = [name for name in names if name not in entries]
    if missing:
        raise ValueError(f"{path.name} lacks {', '.join(missing)}")
    sources = {
        name: LimitSource(
            float(entry["value"]),
            entry["unit"],
            bool(entry["raisable"]),
            entry["note"],
            entry["source"],
        )
        for name, entry in entries.items()
    }
    return AccountLimits(**{name: sources[name].value for name in names}), sources


@dataclass(frozen=True)
class PhotoWork:
    """What reprocessing one photo uses, from the measurements and the workflow's path."""

    lambdas: Sequence[cost.LambdaUse]  # the steps the child invokes per photo
    photo_ms: float  # one photo through the child's states, start to end (its critical path)
    item_bytes: float  # the photo's record as DynamoDB sizes it
    record_writes: int  # UpdateItems of the record per photo, each billed at the record's size
    full_indexes: int  # indexes projecting every attribute: each record write rewrites them
    single_key_indexes: int  # of those, keyed by one value for every photo
    keyed_indexes: int  # indexes of keys and a few attributes, entered once (an upper bound)
    s3_gets: float
    s3_puts: float
    sns_publishes: float
    critical_steps: tuple[str, ...] = ()  # the steps on photo_ms's path (the slower branch)

    @property
    def lambda_seconds(self) -> float:
        """Lambda execution time per photo: what one photo holds of the concurrency."""
        return sum(use.duration_ms * use.invocations for use in self.lambdas) / 1000


@dataclass(frozen=True)
class RunParameters:
    """The run's input (the ASL's defaults when a run does not say)."""

    batch_size: int = 10
    max_concurrency: int = 100


@dataclass(frozen=True)
class Throughput:
    limit: str
    photos_per_s: float
    how: str  # the arithmetic, for the table
    lever: str  # what raises it


@dataclass(frozen=True)
class CostLine:
    service: str
    amount: str
    usd: float


@dataclass(frozen=True)
class Estimate:
    photos: int
    throughputs: list[Throughput]
    binding: Throughput
    ramp_s: float  # Lambda scaling up to the concurrency the run holds
    wall_s: float
    children: int
    child_ms: float
    lambda_concurrency_used: float
    costs: list[CostLine]

    @property
    def total_usd(self) -> float:
        return sum(line.usd for line in self.costs)


def child_ms(work: PhotoWork, run: RunParameters, limits: AccountLimits) -> float:
    """An Express child's duration: its batch side by side, in waves of the Inline Map's
    concurrency."""
    return math.ceil(run.batch_size / limits.inline_map_concurrency) * work.photo_ms


def write_units(work: PhotoWork, prices: cost.Prices) -> int:
    """Write units of one record write (an UpdateItem is billed at the larger of the record
    before and after, rounded up to 1 KB)."""
    return cost.dynamodb_write_units(work.item_bytes, prices)


def single_key_partitions(photos: int, work: PhotoWork, limits: AccountLimits) -> int:
    """Partitions holding an index whose key has one value for every photo: its records,
    split by sort key as they fill a partition."""
    return max(1, math.ceil(photos * work.item_bytes / limits.dynamodb_partition_bytes))


def throughputs(
    photos: int,
    work: PhotoWork,
    run: RunParameters,
    limits: AccountLimits,
    prices: cost.Prices,
) -> list[Throughput]:
    """Photos per second each limit allows, on its own."""
    children = min(run.max_concurrency, limits.map_child_executions)
    seconds = child_ms(work, run, limits) / 1000
    record_units = work.record_writes * write_units(work, prices)
    found = [
        Throughput(
            "Distributed Map children at once",
            children * run.batch_size / seconds,
            f"{children:,.0f} children x {run.batch_size} photos / {seconds:.2f} s",
            "maxConcurrency (up to 10,000)",
        ),
        Throughput(
            "Lambda concurrent executions",
            limits.lambda_concurrency / work.lambda_seconds,
            f"{limits.lambda_concurrency:,.0f} / {work.lambda_seconds:.3f} s of Lambda per photo",
            "a Lambda concurrency quota increase",
        ),
        Throughput(
            "Express child starts",
            limits.express_starts_per_s * run.batch_size,
            f"{limits.express_starts_per_s:,.0f}/s x {run.batch_size} photos",
            "batchSize; a quota increase",
        ),
        Throughput(
            "Standard transitions of the parent",
            limits.standard_transitions_per_s * run.batch_size,
            f"{limits.standard_transitions_per_s:,.0f}/s, one per child of {run.batch_size}",
            "batchSize; a quota increase",
        ),
        Throughput(
            "DynamoDB table and each full index",
            limits.dynamodb_table_write_units_per_s / record_units,
            f"{limits.dynamodb_table_write_units_per_s:,.0f} WRU/s / {record_units} WRU",
            "a table quota increase; fewer record writes",
        ),
        *_single_key_index(photos, work, limits, record_units),
        Throughput(
            "S3 PUT",
            limits.s3_prefix_partitions * limits.s3_puts_per_prefix_per_s / work.s3_puts,
            f"{limits.s3_prefix_partitions:g} prefixes x"
            f" {limits.s3_puts_per_prefix_per_s:,.0f}/s / {work.s3_puts:g} PUTs",
            "more partitioned prefixes (S3 scales them)",
        ),
        Throughput(
            "S3 GET",
            limits.s3_prefix_partitions * limits.s3_gets_per_prefix_per_s / work.s3_gets,
            f"{limits.s3_prefix_partitions:g} prefixes x"
            f" {limits.s3_gets_per_prefix_per_s:,.0f}/s / {work.s3_gets:g} GETs",
            "more partitioned prefixes (S3 scales them)",
        ),
        Throughput(
            "SNS Publish",
            limits.sns_publishes_per_s / work.sns_publishes,
            f"{limits.sns_publishes_per_s:,.0f}/s / {work.sns_publishes:g} per photo",
            "a quota increase",
        ),
    ]
    return found


def _single_key_index(
    photos: int, work: PhotoWork, limits: AccountLimits, record_units: int
) -> Iterator[Throughput]:
    if not work.single_key_indexes:
        return
    partitions = single_key_partitions(photos, work, limits)
    yield Throughput(
        "DynamoDB index keyed by one value",
        partitions * limits.dynamodb_partition_write_units_per_s / record_units,
        f"{partitions} partition(s) x {limits.dynamodb_partition_write_units_per_s:,.0f}"
        f" WRU/s / {record_units} WRU",
        "project fewer attributes into it; spread its key",
    )


def costs(
    photos: int,
    work: PhotoWork,
    run: RunParameters,
    limits: AccountLimits,
    prices: cost.Prices,
    architecture: str = "x86_64",
) -> list[CostLine]:
    """The run's cost by line, in USD, the manifest's scan included."""
    usd = prices.usd
    lines = []
    for use in work.lambdas:
        gb_seconds = cost.lambda_gb_seconds(use.duration_ms, use.memory_mb) * use.invocations
        calls = photos * use.invocations
        lines.append(
            CostLine(
                f"Lambda {use.function} ({use.memory_mb} MB)",
                f"{photos * gb_seconds:,.0f} GB-s, {calls:,.0f} requests",
                photos * gb_seconds * usd[cost.LAMBDA_GB_SECOND[architecture]]
                + calls * usd["lambda_request"],
            )
        )
    children = math.ceil(photos / run.batch_size)
    transitions = children + PARENT_STATES
    billed_ms, billed_mb = cost.express_billed(
        child_ms(work, run, limits), prices.billing["sfn_express_memory_step_mb"], prices
    )
    per_child = usd["sfn_express_request"] + usd["sfn_express_gb_second"] * (
        cost.lambda_gb_seconds(billed_ms, billed_mb)
    )
    units = work.record_writes * write_units(work, prices) * (1 + work.full_indexes)
    units += work.keyed_indexes
    scan_units = photos * work.item_bytes / READ_UNIT_BYTES * EVENTUALLY_CONSISTENT
    lines += [
        CostLine(
            "Step Functions Standard (parent)",
            f"{transitions:,} transitions (one per child)",
            transitions * usd["sfn_standard_transition"],
        ),
        CostLine(
            "Step Functions Express (children)",
            f"{children:,} x (1 request + {billed_ms:.0f} ms x {billed_mb:.0f} MB)",
            children * per_child,
        ),
        CostLine(
            "DynamoDB writes (on-demand)",
            f"{photos * units:,.0f} WRU ({units:g} per photo)",
            photos * units * usd["dynamodb_write_unit"],
        ),
        CostLine(
            "DynamoDB reads (the manifest's scan)",
            f"{scan_units:,.0f} RRU",
            scan_units * usd["dynamodb_read_unit"],
        ),
        CostLine(
            "S3 requests",
            f"{photos * work.s3_puts:,.0f} PUT + {photos * work.s3_gets:,.0f} GET",
            photos * (work.s3_puts * usd["s3_put_request"] + work.s3_gets * usd["s3_get_request"]),
        ),
        CostLine(
            "SNS",
            f"{photos * work.sns_publishes:,.0f} publishes",
            photos * work.sns_publishes * usd["sns_publish"],
        ),
    ]
    return lines


def ramp_seconds(throughput: float, work: PhotoWork, limits: AccountLimits) -> float:
    """How long Lambda takes to scale each step to what the run holds of it (the slowest)."""
    needed = max(
        (throughput * use.duration_ms / 1000 * use.invocations for use in work.lambdas),
        default=0.0,
    )
    return needed / limits.lambda_scaling_per_10s * 10


def estimate(
    photos: int,
    work: PhotoWork,
    run: RunParameters,
    limits: AccountLimits,
    prices: cost.Prices,
) -> Estimate:
    """The run of ``photos`` photos: its throughput, what binds it, how long and how much.

    The wall time is the photos at the binding throughput plus half the ramp (throughput
    grows about linearly while Lambda scales)."""
    found = throughputs(photos, work, run, limits, prices)
    binding = min(found, key=lambda t: t.photos_per_s)
    ramp = ramp_seconds(binding.photos_per_s, work, limits)
    return Estimate(
        photos=photos,
        throughputs=found,
        binding=binding,
        ramp_s=ramp,
        wall_s=photos / binding.photos_per_s + ramp / 2,
        children=math.ceil(photos / run.batch_size),
        child_ms=child_ms(work, run, limits),
        lambda_concurrency_used=binding.photos_per_s * work.lambda_seconds,
        costs=costs(photos, work, run, limits, prices),
    )


@dataclass(frozen=True)
class ManifestSource:
    name: str
    hours: float | None  # None: not known from the documentation
    usd: float
    how: str


def manifest_sources(
    photos: int, work: PhotoWork, limits: AccountLimits, prices: cost.Prices
) -> list[ManifestSource]:
    """Where the manifest's photo ids can come from, and what each takes."""
    table_bytes = photos * work.item_bytes
    scan_units = table_bytes / READ_UNIT_BYTES * EVENTUALLY_CONSISTENT
    scan_s = scan_units / limits.dynamodb_partition_read_units_per_s
    usd = prices.usd
    return [
        ManifestSource(
            "Scan from one machine (photoflow reprocess)",
            scan_s / 3600,
            scan_units * usd["dynamodb_read_unit"],
            f"{table_bytes / GB:,.1f} GB read at most"
            f" {limits.dynamodb_partition_read_units_per_s:,.0f} RRU/s (one partition at a"
            f" time); the ids held in memory, a {photos * MANIFEST_LINE_BYTES / 1e9:.2f} GB"
            " manifest in one PUT",
        ),
        ManifestSource(
            "DynamoDB export to S3, then one Athena query writes the CSV",
            None,
            table_bytes / GB * usd["dynamodb_export_gb"]
            + table_bytes / 2**40 * usd["athena_tb_scanned"],
            "no read capacity used; the query filters status and configVersion",
        ),
        ManifestSource(
            "S3 Inventory of uploads/ (every photo, no filter)",
            None,
            photos / 1e6 * usd["s3_inventory_million_objects"],
            "daily or weekly; rows name keys, the ItemSelector derives the id",
        ),
    ]


def reprocess_path(definition: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The states one photo goes through when all goes well, by name: the Inline Map's
    states inside the Distributed Map, from StartAt along Next to the end."""
    states = definition["States"]
    outer = next(s for s in states.values() if s.get("ItemProcessor"))["ItemProcessor"]
    inline = next(s for s in outer["States"].values() if s.get("ItemProcessor"))["ItemProcessor"]
    path, name = [], inline["StartAt"]
    while name is not None:
        state = inline["States"][name]
        path.append((name, state))
        name = state.get("Next")
    return path


def service_tasks(path: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, int]:
    """Task states of a path by integration ("dynamodb:updateItem", "sns:publish", ...)."""
    counts: dict[str, int] = {}
    for _, state in path:
        resource = str(state.get("Resource", ""))
        if state.get("Type") == "Task" and ":states:::" in resource:
            integration = resource.split(":states:::", 1)[1]
            counts[integration] = counts.get(integration, 0) + 1
    return counts


# --- the bench's section ------------------------------------------------------------------

PHOTO_COUNTS = (1_000_000, 100_000_000)
RAISED_LAMBDA_CONCURRENCY = 3000  # a quota increase of the kind AWS grants on request
RAISED_MAX_CONCURRENCY = 1000


@dataclass(frozen=True)
class Scenario:
    name: str
    work: PhotoWork
    run: RunParameters
    limits: AccountLimits


def scenarios(work: PhotoWork, limits: AccountLimits, prices: cost.Prices) -> list[Scenario]:
    """The defaults (and the same with slower steps), then the levers of what binds them,
    one after the other."""
    # The steps' times are single-threaded work on a whole core; below 1,769 MB Lambda
    # gives a function that share of a vCPU, and CPU-bound work slows in proportion.
    cpu_bound = dataclasses.replace(
        work,
        lambdas=[
            dataclasses.replace(
                use, duration_ms=use.duration_ms * cost.cpu_share_factor(use.memory_mb, prices)
            )
            for use in work.lambdas
        ],
        photo_ms=work.photo_ms
        + sum(
            use.duration_ms * (cost.cpu_share_factor(use.memory_mb, prices) - 1)
            for use in work.lambdas
            if use.function in work.critical_steps
        ),
    )
    raised = dataclasses.replace(limits, lambda_concurrency=RAISED_LAMBDA_CONCURRENCY)
    wider = RunParameters(max_concurrency=RAISED_MAX_CONCURRENCY)
    # The single-key index projecting only what its listing reads: the claim's and the
    # release's writes leave it, the record's write enters it once, under 1 KB.
    narrow = dataclasses.replace(
        work,
        full_indexes=work.full_indexes - work.single_key_indexes,
        keyed_indexes=work.keyed_indexes + work.single_key_indexes,
        single_key_indexes=0,
    )
    return [
        Scenario("defaults", work, RunParameters(), limits),
        Scenario(
            "defaults, steps CPU-bound at their memory's share of a vCPU",
            cpu_bound,
            RunParameters(),
            limits,
        ),
        Scenario(
            f"Lambda concurrency {RAISED_LAMBDA_CONCURRENCY:,}, maxConcurrency"
            f" {RAISED_MAX_CONCURRENCY:,}",
            work,
            wider,
            raised,
        ),
        Scenario("the same, ByCreatedAt not projecting every attribute", narrow, wider, raised),
    ]


def duration(seconds: float) -> str:
    """Seconds as the unit a person reads them in."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def scale_report(
    work: PhotoWork,
    prices: cost.Prices,
    limits: AccountLimits,
    local: Sequence[tuple[str, str]],
    reprocess_items_per_s: float | None = None,
) -> str:
    """The estimate for PHOTO_COUNTS photos, and the local figures it is built on.

    ``reprocess_items_per_s`` is the hook for the local engine's own run of the
    ReprocessWorkflow: photos per second through its Distributed Map on the local stack,
    printed beside the figures once the engine runs the workflow and the bench measures it.
    """
    runs = [
        (scenario, estimate(photos, scenario.work, scenario.run, scenario.limits, prices))
        for scenario in scenarios(work, limits, prices)
        for photos in PHOTO_COUNTS
    ]
    summary = [
        [
            scenario.name,
            f"{found.photos:,}",
            found.binding.limit,
            f"{found.binding.photos_per_s:,.0f}",
            duration(found.wall_s),
            f"${found.total_usd:,.0f}",
            usd(found.total_usd / found.photos * 1000),
        ]
        for scenario, found in runs
    ]
    defaults = [found for scenario, found in runs if scenario.name == "defaults"]
    by_limit = [
        [limit.limit, *(f"{f.throughputs[i].photos_per_s:,.0f}" for f in defaults), limit.how]
        for i, limit in enumerate(defaults[-1].throughputs)
    ]
    by_line = [
        [line.service, line.amount, *(f"${f.costs[i].usd:,.2f}" for f in defaults)]
        for i, line in enumerate(defaults[-1].costs)
    ]
    by_line.append(["total", "", *(f"${f.total_usd:,.2f}" for f in defaults)])
    counts = [f"{photos:,}" for photos in PHOTO_COUNTS]
    manifests = [
        [
            source.name,
            "not documented" if source.hours is None else duration(source.hours * 3600),
            f"${source.usd:,.2f}",
            source.how,
        ]
        for source in manifest_sources(PHOTO_COUNTS[-1], work, limits, prices)
    ]
    measured = (
        f"{reprocess_items_per_s:.2f} photos/s"
        if reprocess_items_per_s is not None
        else "not measured (the local run did not finish)"
    )
    return "\n".join(
        [
            table(
                ["run", "photos", "binding limit", "photos/s", "wall time", "cost", "$/1,000"],
                summary,
                left=3,
            ),
            "\nPhotos per second each limit allows at the defaults:",
            table(["limit", *counts, f"how ({counts[-1]})"], by_limit, left=1),
            "\nCost by line at the defaults:",
            table(["line", f"amount ({counts[-1]})", *counts], by_line, left=2),
            f"\nWhere the manifest of {counts[-1]} photo ids comes from:",
            table(["source", "time", "cost", ""], manifests, left=1),
            "\nThe local figures it is built on:",
            pairs([*local, ("reprocessing on the local stack", measured)]),
            notes(
                [
                    "Limits: bench/limits.json (us-east-1 defaults, each with its AWS page);"
                    " prices: bench/prices.json. The wall time is the photos at the binding"
                    " throughput plus half of Lambda's ramp; retries, cold starts and S3"
                    " transfer are not in the step times.",
                ]
            ),
        ]
    )
