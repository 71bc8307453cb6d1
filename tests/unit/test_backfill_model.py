"""The reprocessing estimate's arithmetic (bench/backfill.py): the throughput each limit
allows, which binds, the wall time and the cost lines, on small inputs worked out by hand;
the limits and prices files it reads; the workflow path it counts writes on."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from bench import backfill, cost
from bench.settings import ROOT

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
        "sns_publish": 0.0000005,
        "dynamodb_write_unit": 0.000001,
        "dynamodb_read_unit": 0.0000001,
        "dynamodb_export_gb": 0.1,
        "s3_inventory_million_objects": 0.0025,
        "athena_tb_scanned": 5.0,
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
# Generous everywhere but Lambda (100 at once), so that Lambda binds unless a test says.
LIMITS = backfill.AccountLimits(
    lambda_concurrency=100,
    lambda_scaling_per_10s=1000,
    map_child_executions=10_000,
    inline_map_concurrency=40,
    express_starts_per_s=6000,
    standard_transitions_per_s=1500,
    express_max_duration_s=300,
    dynamodb_table_write_units_per_s=40_000,
    dynamodb_partition_write_units_per_s=1000,
    dynamodb_partition_read_units_per_s=3000,
    dynamodb_partition_bytes=1_000_000,
    s3_puts_per_prefix_per_s=3500,
    s3_gets_per_prefix_per_s=5500,
    s3_prefix_partitions=16,
    sns_publishes_per_s=30_000,
)
# One step of 500 ms at 1 GB; a photo takes 500 ms through its child; a 1,500-byte record
# (2 write units) written 3 times, with 2 indexes of every attribute, none single-keyed.
WORK = backfill.PhotoWork(
    lambdas=[cost.LambdaUse("ThumbnailFunction", 1024, 500.0, 1.0)],
    photo_ms=500.0,
    item_bytes=1500,
    record_writes=3,
    full_indexes=2,
    single_key_indexes=0,
    keyed_indexes=4,
    s3_gets=3,
    s3_puts=14,
    sns_publishes=1,
)
RUN = backfill.RunParameters(batch_size=10, max_concurrency=100)


def rates(found: backfill.Estimate) -> dict[str, float]:
    return {t.limit: t.photos_per_s for t in found.throughputs}


def test_with_lambda_binding_the_throughput_is_concurrency_over_lambda_seconds_per_photo() -> None:
    found = backfill.estimate(1000, WORK, RUN, LIMITS, PRICES)

    assert found.binding.limit == "Lambda concurrent executions"
    assert found.binding.photos_per_s == 200.0  # 100 at once / 0.5 s each
    # 100 children x 10 photos / 0.5 s a child
    assert rates(found)["Distributed Map children at once"] == 2000.0
    # Lambda scales to 200/s x 0.5 s = 100 environments: 1 s at 1,000 per 10 s
    assert found.ramp_s == 1.0
    assert found.wall_s == 5.5  # 1,000 photos / 200 per s, and half the ramp
    assert found.lambda_concurrency_used == 100.0
    assert found.children == 100


def test_every_other_limit_by_hand() -> None:
    found = rates(backfill.estimate(1000, WORK, RUN, LIMITS, PRICES))

    assert found["Express child starts"] == 60_000.0  # 6,000 per s x 10 photos
    assert found["Standard transitions of the parent"] == 15_000.0
    assert found["DynamoDB table and each full index"] == 40_000 / 6  # 3 writes x 2 WRU
    assert found["S3 PUT"] == 4000.0  # 16 x 3,500 / 14
    assert found["S3 GET"] == 16 * 5500 / 3
    assert found["SNS Publish"] == 30_000.0
    assert "DynamoDB index keyed by one value" not in found  # the work has none


def test_an_index_keyed_by_one_value_takes_the_writes_in_the_partitions_its_records_fill() -> None:
    work = dataclasses.replace(WORK, single_key_indexes=1)

    small = backfill.estimate(1000, work, RUN, LIMITS, PRICES)
    large = backfill.estimate(2000, work, RUN, LIMITS, PRICES)

    # 1,000 x 1,500 bytes fill 2 partitions of 1,000,000 bytes; 2,000 photos fill 3
    assert rates(small)["DynamoDB index keyed by one value"] == 2 * 1000 / 6
    assert rates(large)["DynamoDB index keyed by one value"] == 3 * 1000 / 6
    assert small.binding.limit == "Lambda concurrent executions"  # 200 < 333
    assert backfill.single_key_partitions(1, work, LIMITS) == 1  # never fewer than one


def test_a_low_max_concurrency_binds_and_raising_it_moves_the_throughput_up() -> None:
    few = backfill.estimate(1000, WORK, dataclasses.replace(RUN, max_concurrency=5), LIMITS, PRICES)
    more = backfill.estimate(
        1000, WORK, dataclasses.replace(RUN, max_concurrency=8), LIMITS, PRICES
    )

    assert few.binding.limit == "Distributed Map children at once"
    assert few.binding.photos_per_s == 100.0  # 5 children x 10 photos / 0.5 s
    assert more.binding.photos_per_s == 160.0
    assert more.wall_s < few.wall_s


def test_max_concurrency_is_capped_by_the_distributed_maps_ten_thousand_children() -> None:
    limits = dataclasses.replace(LIMITS, lambda_concurrency=1_000_000)
    run = dataclasses.replace(RUN, max_concurrency=50_000)

    found = rates(backfill.estimate(1000, WORK, run, limits, PRICES))

    assert found["Distributed Map children at once"] == 200_000.0  # 10,000 x 10 / 0.5 s


def test_a_larger_batch_fills_each_child_until_the_inline_map_runs_it_in_waves() -> None:
    run = dataclasses.replace(RUN, max_concurrency=5)

    ten = backfill.estimate(1000, WORK, run, LIMITS, PRICES)
    forty = backfill.estimate(1000, WORK, dataclasses.replace(run, batch_size=40), LIMITS, PRICES)
    eighty = backfill.estimate(1000, WORK, dataclasses.replace(run, batch_size=80), LIMITS, PRICES)

    assert [f.child_ms for f in (ten, forty, eighty)] == [500.0, 500.0, 1000.0]
    assert rates(ten)["Distributed Map children at once"] == 100.0
    assert rates(forty)["Distributed Map children at once"] == 400.0  # 5 x 40 / 0.5 s
    assert rates(eighty)["Distributed Map children at once"] == 400.0  # 5 x 80 / 1 s
    assert [f.children for f in (ten, forty, eighty)] == [100, 25, 13]


def test_raising_lambda_concurrency_moves_a_lambda_bound_run() -> None:
    raised = dataclasses.replace(LIMITS, lambda_concurrency=150)

    found = backfill.estimate(1000, WORK, RUN, raised, PRICES)

    assert found.binding.photos_per_s == 300.0
    assert found.wall_s == pytest.approx(1000 / 300 + 0.75)  # ramp: 150 environments, 1.5 s


def test_the_cost_lines_of_a_thousand_photos_by_hand() -> None:
    lines = {line.service: line.usd for line in backfill.costs(1000, WORK, RUN, LIMITS, PRICES)}

    assert lines == pytest.approx(
        {
            # 1,000 x 0.5 GB-s x $0.00001, and 1,000 requests x $0.0000002
            "Lambda ThumbnailFunction (1024 MB)": 0.005 + 0.0002,
            # 100 children and the parent's Map and Succeed states: 102 x $0.000025
            "Step Functions Standard (parent)": 0.00255,
            # 100 x ($0.000001 + 500 ms x 64 MB = 0.03125 GB-s x $0.00001)
            "Step Functions Express (children)": 100 * (0.000001 + 0.03125 * 0.00001),
            # (3 writes x 2 WRU x (table + 2 indexes) + 4 keyed) = 22 WRU x 1,000 x $0.000001
            "DynamoDB writes (on-demand)": 0.022,
            # 1,000 x 1,500 bytes / 4 KB, at half a unit each, x $0.0000001
            "DynamoDB reads (the manifest's scan)": 1000 * 1500 / 4096 / 2 * 0.0000001,
            # 1,000 x (14 x $0.000005 + 3 x $0.0000004)
            "S3 requests": 0.0712,
            "SNS": 0.0005,
        }
    )
    found = backfill.estimate(1000, WORK, RUN, LIMITS, PRICES)
    assert found.total_usd == pytest.approx(sum(lines.values()))
    assert found.total_usd == pytest.approx(0.10159956, abs=1e-8)


def test_a_larger_batch_needs_fewer_children_and_parent_transitions() -> None:
    lines = {
        line.service: line.usd
        for line in backfill.costs(
            1000, WORK, dataclasses.replace(RUN, batch_size=40), LIMITS, PRICES
        )
    }

    assert lines["Step Functions Standard (parent)"] == pytest.approx(27 * 0.000025)
    assert lines["Step Functions Express (children)"] == pytest.approx(
        25 * (0.000001 + 0.03125 * 0.00001)
    )


def test_the_manifest_scan_reads_one_partition_at_a_time() -> None:
    scan, export, inventory = backfill.manifest_sources(1_000_000, WORK, LIMITS, PRICES)

    # 1.5 GB as 4 KB units at half a unit each: 183,105 RRU at 3,000 per s
    units = 1_000_000 * 1500 / 4096 / 2
    assert scan.hours == pytest.approx(units / 3000 / 3600)
    assert scan.usd == pytest.approx(units * 0.0000001)
    table_gb = 1_000_000 * 1500 / 2**30
    assert export.hours is None
    assert export.usd == pytest.approx(table_gb * 0.1 + table_gb / 1024 * 5.0)
    assert inventory.usd == pytest.approx(0.0025)


def test_the_reprocessing_workflow_path_has_three_record_writes_and_one_publish() -> None:
    definition = json.loads((ROOT / "statemachine" / "reprocess_workflow.asl.json").read_text())

    path = backfill.reprocess_path(definition)

    assert [name for name, _ in path] == [
        "ClaimPhoto",
        "ExtractMetadata",
        "MakeDerivatives",
        "RecordResult",
        "NotifyReprocessed",
        "ReleaseClaim",
    ]
    assert backfill.service_tasks(path) == {
        "dynamodb:updateItem": 3,
        "lambda:invoke": 1,
        "sns:publish": 1,
    }


def test_the_limits_file_gives_every_limit_with_its_aws_page() -> None:
    limits, sources = backfill.load_limits()

    assert limits.lambda_concurrency == 1000
    assert limits.lambda_scaling_per_10s == 1000
    assert limits.map_child_executions == 10_000
    assert limits.s3_puts_per_prefix_per_s == 3500
    assert limits.s3_gets_per_prefix_per_s == 5500
    assert limits.dynamodb_table_write_units_per_s == 40_000
    for name, source in sources.items():
        assert source.source.startswith("https://"), name
        assert source.unit and source.note, name
    assert sources["lambda_concurrency"].raisable
    assert not sources["map_child_executions"].raisable


def test_the_prices_file_has_what_the_estimate_prices() -> None:
    prices = cost.load_prices()

    assert all(name in prices.usd for name in backfill.REQUIRED_PRICES)
    assert prices.usd["dynamodb_read_unit"] == 0.000000125
    assert prices.usd["dynamodb_export_gb"] == 0.10


def test_the_report_prints_the_local_reprocessing_throughput_only_once_measured() -> None:
    local = [("Lambda time per photo", "500 ms")]

    without = backfill.scale_report(WORK, PRICES, LIMITS, local)
    measured = backfill.scale_report(WORK, PRICES, LIMITS, local, reprocess_items_per_s=3.25)

    assert "not measured" in without
    assert "3.25 photos/s" in measured and "not measured" not in measured
    assert "100,000,000" in measured and "Lambda concurrent executions" in measured


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(90, "90 s"), (600, "10 min"), (9000, "2.5 h"), (3 * 86400, "3.0 days")],
)
def test_durations_read_in_the_unit_a_person_uses(seconds: float, text: str) -> None:
    assert backfill.duration(seconds) == text


def test_the_write_units_of_a_record_round_up_to_a_kilobyte() -> None:
    assert backfill.write_units(WORK, PRICES) == 2
    assert backfill.write_units(dataclasses.replace(WORK, item_bytes=1024), PRICES) == 1
    assert math.isclose(WORK.lambda_seconds, 0.5)


def test_the_scenarios_slow_the_steps_to_their_cpu_share_and_pull_each_lever() -> None:
    work = dataclasses.replace(WORK, single_key_indexes=1, critical_steps=("ThumbnailFunction",))

    defaults, cpu_bound, raised, narrow = backfill.scenarios(work, LIMITS, PRICES)

    assert defaults.work == work and defaults.run == backfill.RunParameters()
    # 1,024 MB has 1,024 / 1,769 of a vCPU: 500 ms of one core's work takes 863.8 ms
    assert cpu_bound.work.lambdas[0].duration_ms == pytest.approx(500 * 1769 / 1024)
    assert cpu_bound.work.photo_ms == pytest.approx(500 * 1769 / 1024)
    assert raised.limits.lambda_concurrency == 3000 and raised.run.max_concurrency == 1000
    # the single-key index leaves the indexes of every attribute for the keyed ones
    assert (narrow.work.full_indexes, narrow.work.keyed_indexes) == (1, 5)
    assert narrow.work.single_key_indexes == 0
