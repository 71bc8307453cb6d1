"""What processing photos costs on AWS, per 1,000 photos, from measured usage and list prices.

Pure arithmetic: the usage comes from the benchmarks (step times, execution
histories, objects written), the prices from ``prices.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES = Path(__file__).resolve().parent / "prices.json"
PHOTOS = 1000  # the table is per this many photos
GB = 2**30  # AWS bills storage and log volume in binary gigabytes
# The GB-second price of each Lambda architecture (the template's Architecture parameter).
LAMBDA_GB_SECOND = {"x86_64": "lambda_gb_second", "arm64": "lambda_gb_second_arm64"}
REQUIRED_PRICES = (
    *LAMBDA_GB_SECOND.values(),
    "lambda_request",
    "sfn_standard_transition",
    "sfn_express_request",
    "sfn_express_gb_second",
    "s3_put_request",
    "s3_get_request",
    "s3_gb_month",
    "s3_transfer_out_gb",
    "sqs_request",
    "sns_publish",
    "dynamodb_write_unit",
    "apigateway_rest_request",
    "logs_ingested_gb",
)
REQUIRED_BILLING = (
    "lambda_full_vcpu_mb",
    "sfn_express_duration_step_ms",
    "sfn_express_memory_step_mb",
    "dynamodb_write_unit_bytes",
)


@dataclass(frozen=True)
class Prices:
    usd: Mapping[str, float]
    billing: Mapping[str, float]
    region: str
    noted_on: str
    status: str


def load_prices(path: Path = PRICES) -> Prices:
    document = json.loads(path.read_text(encoding="utf-8"))
    usd = {name: float(entry["usd"]) for name, entry in document["prices"].items()}
    billing = {name: float(entry["value"]) for name, entry in document["billing"].items()}
    missing = [name for name in REQUIRED_PRICES if name not in usd] + [
        name for name in REQUIRED_BILLING if name not in billing
    ]
    if missing:
        raise ValueError(f"{path.name} lacks {', '.join(missing)}")
    return Prices(usd, billing, document["region"], document["noted_on"], document["status"])


@dataclass(frozen=True)
class LambdaUse:
    function: str  # logical id in template.yaml
    memory_mb: int
    duration_ms: float  # billed duration of one invocation
    invocations: float  # per photo


@dataclass(frozen=True)
class PhotoUsage:
    """What one photo uses, service by service."""

    lambdas: Sequence[LambdaUse]
    transitions: float  # Standard state transitions of one execution
    express_duration_ms: float  # one execution's duration, as Express would bill it
    s3_puts: float
    s3_gets: float
    sqs_requests: float
    sns_publishes: float
    dynamodb_write_units: float
    api_requests: float
    lambda_log_bytes: float
    history_bytes: float  # one execution's history events with their data, as logs
    stored_bytes: float  # original and derivatives


@dataclass(frozen=True)
class CostLine:
    service: str
    per_photo: str
    standard: float  # USD per PHOTOS photos
    express: float


def lambda_gb_seconds(duration_ms: float, memory_mb: float) -> float:
    return duration_ms / 1000 * memory_mb / 1024


def cpu_share_factor(memory_mb: float, prices: Prices) -> float:
    """How much slower a single-threaded, CPU-bound run is at this memory than on a full core."""
    return max(1.0, prices.billing["lambda_full_vcpu_mb"] / memory_mb)


def express_billed(duration_ms: float, memory_mb: float, prices: Prices) -> tuple[float, float]:
    """(ms, MB) an Express execution is billed for: duration up to 100 ms steps, memory to 64 MB."""
    step = prices.billing["sfn_express_duration_step_ms"]
    chunk = prices.billing["sfn_express_memory_step_mb"]
    return (
        max(1, math.ceil(duration_ms / step)) * step,
        max(1, math.ceil(memory_mb / chunk)) * chunk,
    )


def state_transitions(history: Sequence[Mapping[str, Any]]) -> int:
    """Transitions of an execution as Standard bills them: one per state entered.

    That counts the Parallel state and every state inside its branches; a retried
    task enters its state again, so retries count too.
    """
    return sum(1 for event in history if str(event["type"]).endswith("StateEntered"))


def dynamodb_write_units(item_bytes: float, prices: Prices) -> int:
    return max(1, math.ceil(item_bytes / prices.billing["dynamodb_write_unit_bytes"]))


def dynamodb_item_bytes(item: Mapping[str, Any]) -> int:
    """Size of an item in DynamoDB's wire format ({"name": {"S": ...}}), as DynamoDB counts it."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Mapping[str, Any]) -> int:
    (kind, content), *_ = value.items()
    if kind == "L":
        return 3 + sum(1 + _value_bytes(element) for element in content)
    if kind == "M":
        return 3 + sum(
            1 + len(name.encode()) + _value_bytes(element) for name, element in content.items()
        )
    if kind in _SETS:
        return sum(_SCALARS[_SETS[kind]](element) for element in content)
    if kind not in _SCALARS:
        raise ValueError(f"unknown DynamoDB type {kind!r}")
    return _SCALARS[kind](content)


def _number_bytes(number: object) -> int:
    """One byte per two significant digits, plus one."""
    mantissa = str(number).lower().split("e")[0].lstrip("+-").replace(".", "")
    digits = mantissa.strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


_SCALARS: dict[str, Callable[[Any], int]] = {
    "S": lambda text: len(str(text).encode()),
    "N": _number_bytes,
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
}
_SETS = {"SS": "S", "NS": "N", "BS": "B"}


def cost_lines(usage: PhotoUsage, prices: Prices, architecture: str = "x86_64") -> list[CostLine]:
    """One line per service: the same for both workflow types except Step Functions itself.
    ``architecture`` prices the functions' duration (their run times are the same figures)."""
    usd = prices.usd
    gb_second = usd[LAMBDA_GB_SECOND[architecture]]
    lines = []
    for use in usage.lambdas:
        gb_seconds = lambda_gb_seconds(use.duration_ms, use.memory_mb) * use.invocations
        dollars = gb_seconds * gb_second + use.invocations * usd["lambda_request"]
        lines.append(
            CostLine(
                f"Lambda {use.function} ({use.memory_mb} MB)",
                f"{use.invocations:g} x {use.duration_ms:.0f} ms = {gb_seconds:.4f} GB-s",
                PHOTOS * dollars,
                PHOTOS * dollars,
            )
        )
    lines.append(
        CostLine(
            "Step Functions Standard",
            f"{usage.transitions:g} state transitions",
            PHOTOS * usage.transitions * usd["sfn_standard_transition"],
            0.0,
        )
    )
    # A definition and state this small fit Express's smallest memory chunk.
    billed_ms, billed_mb = express_billed(
        usage.express_duration_ms, prices.billing["sfn_express_memory_step_mb"], prices
    )
    express = usd["sfn_express_request"] + usd["sfn_express_gb_second"] * lambda_gb_seconds(
        billed_ms, billed_mb
    )
    lines.append(
        CostLine(
            "Step Functions Express",
            f"1 request + {billed_ms:.0f} ms x {billed_mb:.0f} MB",
            0.0,
            PHOTOS * express,
        )
    )
    shared = [
        (
            "S3 requests",
            f"{usage.s3_puts:g} PUT + {usage.s3_gets:g} GET",
            usage.s3_puts * usd["s3_put_request"] + usage.s3_gets * usd["s3_get_request"],
        ),
        ("SQS", f"{usage.sqs_requests:.3g} requests", usage.sqs_requests * usd["sqs_request"]),
        ("SNS", f"{usage.sns_publishes:g} publish", usage.sns_publishes * usd["sns_publish"]),
        (
            "DynamoDB (on-demand)",
            f"{usage.dynamodb_write_units:g} write units",
            usage.dynamodb_write_units * usd["dynamodb_write_unit"],
        ),
        (
            "API Gateway (REST)",
            f"{usage.api_requests:g} request",
            usage.api_requests * usd["apigateway_rest_request"],
        ),
        (
            "CloudWatch Logs (Lambda)",
            f"{usage.lambda_log_bytes / 1024:.1f} KB",
            usage.lambda_log_bytes / GB * usd["logs_ingested_gb"],
        ),
    ]
    lines.extend(
        CostLine(name, amount, PHOTOS * cost, PHOTOS * cost) for name, amount, cost in shared
    )
    return lines


def totals(lines: Sequence[CostLine]) -> tuple[float, float]:
    """(Standard, Express) in USD per PHOTOS photos."""
    return sum(line.standard for line in lines), sum(line.express for line in lines)


def history_logging(usage: PhotoUsage, prices: Prices) -> float:
    """USD per PHOTOS photos to log every Express execution's history at level ALL, with data."""
    return PHOTOS * usage.history_bytes / GB * prices.usd["logs_ingested_gb"]


def storage_per_month(usage: PhotoUsage, prices: Prices) -> float:
    """USD per PHOTOS photos for each month the original and its derivatives are kept."""
    return PHOTOS * usage.stored_bytes / GB * prices.usd["s3_gb_month"]
