"""Scheduled EventBridge rules, fired locally: moto stores them but never fires them.

Each rule with a ``rate(...)`` schedule and Lambda targets invokes its targets
every period (times the stack's time scale), with the event EventBridge sends
("Scheduled Event"), as AWS does. ``cron(...)`` schedules are not fired.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from photoflow_local.lambdas import LambdaService

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """The period of a ``rate(...)`` expression in seconds; None for anything else."""
    found = _RATE.match(expression.strip())
    if not found:
        return None
    return int(found.group(1)) * _SECONDS[found.group(2).rstrip("s")]


@dataclass(frozen=True)
class ScheduledRule:
    name: str
    arn: str
    period_seconds: float
    functions: tuple[str, ...]


def scheduled_rules(events: Any) -> tuple[list[ScheduledRule], dict[str, str]]:
    """The rules to fire, and those that will not fire locally with the reason."""
    rules, skipped = [], {}
    for page in events.get_paginator("list_rules").paginate():
        for rule in page["Rules"]:
            expression = rule.get("ScheduleExpression")
            if not expression or rule.get("State") != "ENABLED":
                continue
            period = rate_seconds(expression)
            if period is None:
                skipped[rule["Name"]] = f"{expression}: only rate() schedules fire locally"
                continue
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            functions = tuple(
                target["Arn"].split(":function:", 1)[1].split(":", 1)[0]
                for target in targets
                if ":function:" in target["Arn"]
            )
            rules.append(ScheduledRule(rule["Name"], rule["Arn"], period, functions))
    return rules, skipped


def scheduled_event(rule: ScheduledRule, region: str, account: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [rule.arn],
        "detail": {},
    }


class Scheduler:
    """One thread per rule, invoking its functions every (scaled) period until stopped."""

    def __init__(
        self,
        rules: list[ScheduledRule],
        lambdas: LambdaService,
        *,
        region: str,
        account: str,
        time_scale: float = 1.0,
    ) -> None:
        self.rules = rules
        self.lambdas = lambdas
        self.region = region
        self.account = account
        self.time_scale = time_scale
        self.fired: list[tuple[str, str]] = []  # (rule, function), in order
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(rule,), name=f"schedule-{rule.name}")
            for rule in rules
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, rule: ScheduledRule) -> None:
        # As on AWS, the first run comes one period after the rule exists.
        while not self._stop.wait(rule.period_seconds * self.time_scale):
            event = json.dumps(scheduled_event(rule, self.region, self.account))
            for function in rule.functions:
                self.lambdas.invoke(function, event)
                self.fired.append((rule.name, function))
