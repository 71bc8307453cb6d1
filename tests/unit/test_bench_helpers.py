"""The benchmark's pure helpers: statistics, run times behind a lock, cost arithmetic, verdicts.

The benchmarks themselves stay out of the test suite (timings on shared machines
are noisy); what is tested here is the arithmetic that turns measurements into
the figures and verdicts they print.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench import cost
from bench.duplicates import DuplicateResult, choose_threshold, error_rates
from bench.localstack import StackResult, subscriber_queues
from bench.report import FAIL, PASS, SKIP, Target, pairs, table
from bench.settings import TEMPLATE, _resolve, load_settings
from bench.stats import paired_ratio, percentile, time_interleaved
from photoflow_local.shape import load_shape

# Round numbers, so that every expected figure can be worked out by hand.
PRICES = cost.Prices(
    usd={
        "lambda_gb_second": 0.00001,
        "lambda_gb_second_arm64": 0.000008,
        "lambda_request": 0.0000002,
        "sfn_standard_transition": 0.000025,
        "sfn_express_request": 0.000001,
        "sfn_express_gb_second": 0.00001,
        "s3_put_request": 0.000005,
        "s3_get_request": 0.0000004,
        "s3_gb_month": 0.02,
        "sqs_request": 0.0000004,
        "sns_publish": 0.0000005,
        "dynamodb_write_unit": 0.000001,
        "apigateway_rest_request": 0.000004,
        "logs_ingested_gb": 0.5,
    },
    billing={
        "lambda_full_vcpu_mb": 1769,
        "sfn_express_duration_step_ms": 100,
        "sfn_express_memory_step_mb": 64,
        "dynamodb_write_unit_bytes": 1024,
    },
    region="us-east-1",
    noted_on="2026-01-01",
    status="check before quoting",
)


def usage(**changes: object) -> cost.PhotoUsage:
    values: dict[str, object] = {
        "lambdas": [cost.LambdaUse("ThumbnailFunction", 1024, 500.0, 1.0)],
        "transitions": 8,
        "express_duration_ms": 250.0,
        "s3_puts": 8,
        "s3_gets": 3,
        "sqs_requests": 6,
        "sns_publishes": 1,
        "dynamodb_write_units": 8,
        "api_requests": 1,
        "lambda_log_bytes": 0.0,
        "history_bytes": cost.GB / 1000,  # a thousand executions log one GB
        "stored_bytes": cost.GB / 1000,
    }
    values.update(changes)
    return cost.PhotoUsage(**values)  # type: ignore[arg-type]


# --- statistics -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([3.0, 1.0, 2.0, 4.0], 0.5, 2.5),  # unsorted input, between the two middle values
        ([float(v) for v in range(1, 101)], 0.95, 95.05),
        ([float(v) for v in range(1, 101)], 0.0, 1.0),
        ([float(v) for v in range(1, 101)], 1.0, 100.0),
        ([7.0], 0.95, 7.0),
    ],
)
def test_percentile_interpolates_between_closest_ranks(
    values: list[float], fraction: float, expected: float
) -> None:
    assert percentile(values, fraction) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "fraction"), [([], 0.5), ([1.0], 1.5), ([1.0], -0.1)])
def test_percentile_refuses_no_values_or_a_fraction_outside_0_1(
    values: list[float], fraction: float
) -> None:
    with pytest.raises(ValueError):
        percentile(values, fraction)


def test_paired_ratio_is_the_median_of_per_round_ratios_not_a_ratio_of_medians() -> None:
    # Round 3 ran under load: both cases slowed down, their ratio did not
    step = [20.0, 22.0, 60.0]
    baseline = [10.0, 11.0, 30.0]

    assert paired_ratio(step, baseline) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0, 2.0])


def test_time_interleaved_rotates_the_order_and_times_every_round() -> None:
    calls: list[str] = []
    cases = {name: (lambda name=name: calls.append(name)) for name in "abc"}

    timings = time_interleaved(cases, rounds=3, warmup=1)

    warmup, *rounds = ("abc", "abc", "bca", "cab")
    assert calls == list(warmup + "".join(rounds))
    assert {name: len(t.cpu_ms) for name, t in timings.items()} == {"a": 3, "b": 3, "c": 3}
    assert all(ms >= 0 for t in timings.values() for ms in t.cpu_ms + t.wall_ms)


def test_lambda_gb_seconds_count_memory_in_binary_gigabytes() -> None:
    assert cost.lambda_gb_seconds(1000, 1024) == 1.0
    assert cost.lambda_gb_seconds(250, 512) == 0.125


def test_cpu_share_slows_functions_below_a_full_core_only() -> None:
    assert cost.cpu_share_factor(1024, PRICES) == pytest.approx(1769 / 1024)
    assert cost.cpu_share_factor(3008, PRICES) == 1.0


@pytest.mark.parametrize(
    ("duration_ms", "memory_mb", "billed"),
    [
        (250.0, 50, (300, 64)),
        (300.0, 64, (300, 64)),
        (300.1, 65, (400, 128)),
        (0.0, 0, (100, 64)),  # never below one step
    ],
)
def test_express_rounds_duration_to_100_ms_and_memory_to_64_mb(
    duration_ms: float, memory_mb: float, billed: tuple[int, int]
) -> None:
    assert cost.express_billed(duration_ms, memory_mb, PRICES) == billed


@pytest.mark.parametrize(("item_bytes", "units"), [(0, 1), (1024, 1), (1025, 2), (2001, 2)])
def test_dynamodb_write_units_round_each_started_kilobyte_up(item_bytes: int, units: int) -> None:
    assert cost.dynamodb_write_units(item_bytes, PRICES) == units


def test_dynamodb_item_size_follows_the_documented_rules() -> None:
    item = {
        "photoId": {"S": "abc"},  # 7 + 3
        "width": {"N": "4000"},  # 5 + (1 digit: 1 byte + 1)
        "ratio": {"N": "-1.25"},  # 5 + (3 digits: 2 bytes + 1)
        "gps": {"NULL": True},  # 3 + 1
        # 6 + 3 + (1 + 1 + 2) + (1 + 1 + 1)
        "camera": {"M": {"a": {"S": "xy"}, "b": {"BOOL": False}}},
        "sizes": {"L": [{"N": "256"}, {"S": "x"}]},  # 5 + 3 + (1 + 3) + (1 + 1)
        "tags": {"SS": ["ab", "cde"]},  # 4 + 5
    }

    assert cost.dynamodb_item_bytes(item) == 10 + 7 + 8 + 4 + 16 + 14 + 9


def test_state_transitions_count_every_state_entered_including_parallel_branches() -> None:
    history = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered"},
        {"type": "TaskScheduled"},
        {"type": "TaskStateExited"},
        {"type": "ParallelStateEntered"},
        {"type": "ParallelStateStarted"},
        {"type": "TaskStateEntered"},
        {"type": "TaskStateEntered"},
        {"type": "ParallelStateSucceeded"},
        {"type": "SucceedStateEntered"},
        {"type": "ExecutionSucceeded"},
    ]

    assert cost.state_transitions(history) == 5


def test_cost_lines_per_thousand_photos() -> None:
    lines = {line.service: line for line in cost.cost_lines(usage(), PRICES)}

    # 0.5 s at 1 GB = 0.5 GB-s: $0.000005, plus the request: $0.0000002
    thumbnails = lines["Lambda ThumbnailFunction (1024 MB)"]
    assert thumbnails.standard == thumbnails.express == pytest.approx(0.0052)
    # 8 transitions at $0.000025, Standard only
    assert lines["Step Functions Standard"].standard == pytest.approx(0.2)
    assert lines["Step Functions Standard"].express == 0.0
    # One request, and 250 ms billed as 300 ms at 64 MB: 0.01875 GB-s
    express = lines["Step Functions Express"]
    assert express.per_photo == "1 request + 300 ms x 64 MB"
    assert express.express == pytest.approx(1000 * (0.000001 + 0.01875 * 0.00001))
    assert express.standard == 0.0
    assert lines["S3 requests"].standard == pytest.approx(1000 * (8 * 0.000005 + 3 * 0.0000004))
    assert lines["DynamoDB (on-demand)"].express == pytest.approx(0.008)


def test_arm64_prices_only_the_functions_duration_differently() -> None:
    x86 = {line.service: line for line in cost.cost_lines(usage(), PRICES)}
    arm = {line.service: line for line in cost.cost_lines(usage(), PRICES, "arm64")}

    # 0.5 GB-s at $0.000008, plus the same request: $0.0000042 a photo
    assert arm["Lambda ThumbnailFunction (1024 MB)"].standard == pytest.approx(0.0042)
    assert arm["Step Functions Standard"] == x86["Step Functions Standard"]
    assert arm["S3 requests"] == x86["S3 requests"]


def test_totals_add_each_column_and_differ_by_the_workflow_lines_only() -> None:
    lines = cost.cost_lines(usage(), PRICES)
    by_service = {line.service: line for line in lines}

    standard, express = cost.totals(lines)

    assert standard == pytest.approx(sum(line.standard for line in lines))
    assert standard - express == pytest.approx(
        by_service["Step Functions Standard"].standard
        - by_service["Step Functions Express"].express
    )


def test_history_logs_and_storage_are_priced_per_binary_gigabyte() -> None:
    # A thousand executions of GB/1000 each: one GB of logs, and one GB stored
    assert cost.history_logging(usage(), PRICES) == pytest.approx(0.5)
    assert cost.storage_per_month(usage(), PRICES) == pytest.approx(0.02)


def test_the_prices_file_has_every_price_with_a_source(tmp_path: Path) -> None:
    prices = cost.load_prices()
    document = json.loads(cost.PRICES.read_text(encoding="utf-8"))

    assert set(cost.REQUIRED_PRICES) <= set(prices.usd)
    assert prices.status == "check before quoting"
    assert all(
        entry["source"].startswith("https://aws.amazon.com/")
        for entry in document["prices"].values()
    )

    # Given a copy that lacks a price, loading names it
    del document["prices"]["sns_publish"]
    broken = tmp_path / "prices.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="sns_publish"):
        cost.load_prices(broken)


# --- settings and report ----------------------------------------------------------------


def test_parameter_references_resolve_to_their_defaults() -> None:
    defaults = {"ThumbnailSizes": "2048,256"}

    assert _resolve({"Ref": "ThumbnailSizes"}, defaults) == "2048,256"
    assert _resolve({"Ref": "AWS::Region"}, defaults) == {"Ref": "AWS::Region"}
    assert _resolve("plain", defaults) == "plain"


def test_the_bench_measures_the_steps_the_template_declares_in_their_stages() -> None:
    settings = load_settings()
    shape = load_shape(TEMPLATE)

    # the workflow shape's, whatever steps the template has (tests/unit/test_shape.py pins it)
    assert settings.step_functions == shape.step_functions
    assert settings.stages == shape.stages
    assert settings.stages[0] == (("MetadataFunction",),)
    queues = subscriber_queues(shape)
    assert queues["CompletedPhotosQueue"] == "PhotoProcessed"
    assert queues["FailedPhotosQueue"] == "PhotoFailed"
    # the photo table's indexes: by owner and by creation, every attribute; the four hash
    # bands, keys only (a record enters those once)
    assert (settings.table_indexes, settings.keyed_indexes) == (2, 4)


@pytest.mark.parametrize(
    ("measured", "strict", "verdict"),
    [(2.0, False, PASS), (2.0, True, FAIL), (2.01, False, FAIL), (None, False, SKIP)],
)
def test_target_verdicts_at_the_limit(measured: float | None, strict: bool, verdict: str) -> None:
    target = Target("ratio", measured, 2.0, "x", strict=strict)

    assert target.verdict == verdict
    assert target.row()[-1] == verdict


@pytest.mark.parametrize(
    ("measured", "strict", "verdict"),
    [(32.0, False, PASS), (32.0, True, FAIL), (31.99, False, FAIL), (40.0, True, PASS)],
)
def test_a_floor_target_passes_at_or_above_its_limit(
    measured: float, strict: bool, verdict: str
) -> None:
    target = Target("lowest PSNR", measured, 32.0, "dB", strict=strict, floor=True)

    assert target.verdict == verdict
    limit = (">" if strict else ">=") + " 32.0 dB"
    assert target.row()[1:] == [f"{measured:.1f} dB", limit, verdict]


def test_duplicate_error_rates_count_each_side_of_the_distance() -> None:
    near = [0, 2, 8, 12]  # two within 4 bits, two beyond
    different = [4, 20, 24, 30, 30]  # one within 4 bits

    rates = error_rates(near, different, 4)

    assert (rates.distance, rates.false_positive_rate, rates.miss_rate) == (4, 0.2, 0.5)


def test_the_threshold_is_the_largest_distance_without_false_positives() -> None:
    near, different = [0, 2, 8, 12], [10, 20, 24]
    rates = [error_rates(near, different, distance) for distance in (0, 4, 8, 10, 12)]

    assert choose_threshold(rates) == 8
    with pytest.raises(ValueError, match="collide at every distance"):
        choose_threshold([error_rates(near, [0], 0)])


def test_the_lookups_recall_counts_copies_within_the_distance_that_share_a_band() -> None:
    result = DuplicateResult(
        photos=3,
        near={"recompressed": [1, 2, 12], "cropped": [6, 9, 30]},
        different=[30, 31],
        banded={"recompressed": [True, True, False], "cropped": [True, False, False]},
    )
    # Within 10 bits: 1, 2 (both share a band), 6 (shares), 9 (does not): 3 of 4
    assert result.lookup_recall(10) == 0.75
    assert result.lookup_recall(2) == 1.0
    assert result.lookup_recall(0) == 0.0  # none within


def test_tables_align_text_left_and_figures_right() -> None:
    text = table(["case", "ms"], [["plain decode", "45.8"], ["step", "123.0"]])

    assert text.splitlines() == [
        "case             ms",
        "------------  -----",
        "plain decode   45.8",
        "step          123.0",
    ]
    assert pairs([("CPU", "x"), ("cores", "2")]).splitlines() == ["CPU    x", "cores  2"]


def test_critical_path_takes_the_stages_in_turn_each_by_its_slowest_branch() -> None:
    result = StackResult(
        photo_count=1,
        photo_bytes=1.0,
        wall_s=1.0,
        latencies_s=[],
        lone_latencies_s=[],
        lone_runs_ms={"Meta": [5.0, 7.0, 6.0], "Thumbs": [70.0, 90.0, 80.0], "Filters": [110.0]},
        lone_execution_ms=[],
        batch_runs_ms={},
        transitions=[],
        service_tasks=Counter(),
        history_bytes=[],
        objects_per_photo={},
        item_bytes=0,
        idempotency_records_per_photo=0.0,
        log_bytes_per_photo=0.0,
        ingest_batch_sizes=[],
    )
    assert result.critical_path_ms([(("Meta",),), (("Thumbs",), ("Filters",))]) == 6.0 + 110.0
    # a branch of two steps takes both in turn; a stage of one branch, that branch
    assert result.critical_path_ms([(("Thumbs", "Filters"), ("Meta",))]) == 80.0 + 110.0
    assert result.critical_path_ms([(("Filters",),), (("Meta",),)]) == 110.0 + 6.0
    assert result.critical_path_ms([(("Meta",),)]) == 6.0
    assert result.critical_path_ms([(("Unmeasured",),)]) == 0.0
