"""`make run`: the whole workflow on the local stack, sample photos in, everything shown.

Samples whose names start with ``corrupt`` are expected to fail; every other
one to complete. The exit code says whether that is what happened.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from requests.auth import AuthBase
from rich.console import Console
from rich.panel import Panel

from photoflow_local import running
from photoflow_local.client import LocalSignIn, PhotosClient
from photoflow_local.history import build_timeline
from photoflow_local.identity import new_password
from photoflow_local.running import STATE_DIR
from photoflow_local.shape import load_shape
from photoflow_local.stack import LocalStack, StackOptions
from photoflow_local.timeline_view import print_timeline

SAMPLE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".heic", ".heif"}
EVENT_OF_STATUS = {"COMPLETED": "PhotoProcessed", "FAILED": "PhotoFailed"}


def expected_status(path: Path) -> str:
    return "FAILED" if path.name.startswith("corrupt") else "COMPLETED"


def drain(sqs: Any, queue_url: str, expected: int, timeout: float) -> list[dict[str, Any]]:
    """Receive (and delete) messages until ``expected`` arrived or ``timeout`` passed."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(batch)
    return messages


def run_demo(
    photos_dir: Path,
    template: Path,
    timeout: float,
    console: Console,
    web: Path | None = None,
    keep: bool = False,
) -> int:
    """Process the samples; with ``keep``, keep the stack and its page up until Ctrl-C, as
    `photoflow up` does. Without it, the stack stops with the demo, so no address is printed
    that would be dead by the time it is read."""
    samples = sorted(p for p in photos_dir.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES)
    if not samples:
        console.print(f"[red]no sample photos in {photos_dir}[/]")
        return 1
    STATE_DIR.mkdir(exist_ok=True)
    shutil.rmtree(STATE_DIR / "derivatives", ignore_errors=True)
    options = StackOptions(static_dir=web if web is not None and web.is_dir() else None)
    started = time.monotonic()
    with (
        running.claim() if keep else contextlib.nullcontext() as claim,
        running.run_log(running.FUNCTIONS_LOG) as log,
        LocalStack(template, options, log_sink=log) as stack,
    ):
        up_in = f"local stack up in {time.monotonic() - started:.1f}s"
        if claim is not None:
            addresses = f"local AWS  {stack.endpoint_url}\nAPI        {stack.api_url}"
            console.print(Panel.fit(addresses, title=up_in))
        else:
            console.print(f"{up_in} (it stops when the demo ends)")
        # The samples are the demo user's, so that signing in as them shows them.
        password = add_demo_user(stack, None, with_page=False)
        auth = LocalSignIn(DEMO_USER, password) if password else None
        failures = _process(stack, samples, timeout, console, auth)
        console.print(
            f"{len(samples) - failures} of {len(samples)} photos ended as expected "
            f"in {time.monotonic() - started:.1f}s"
        )
        if claim is not None:
            claim.publish(running.stack_state(stack))
            if password:
                say_how_to_sign_in(
                    console, password, with_page=options.static_dir is not None and bool(stack.apis)
                )
            page = f"the page at {stack.api_url}/, " if options.static_dir else ""
            console.print(
                f"[bold]The local stack stays up:[/] {page}the API at {stack.api_url},"
                f" local AWS at {stack.endpoint_url}; `photoflow executions` and the other"
                " commands work in another terminal. Ctrl-C stops it.",
                soft_wrap=True,
            )
            running.wait_until_stopped()
    if claim is not None:
        console.print("stopped")
    else:
        console.print(
            "stopped: the local stack ran for the demo only; `make up` (photoflow up) starts"
            " one that stays up, with the page",
            soft_wrap=True,
        )
    return 1 if failures else 0


DEMO_USER = "demo"


def add_demo_user(stack: LocalStack, console: Console | None, *, with_page: bool) -> str | None:
    """A user to sign in to the page with (a new password each start), and how (when
    ``console`` is given); returns the password (None: the template has no user pool)."""
    if stack.user_pool is None:
        return None
    password = new_password()
    stack.user_pool.add_user(DEMO_USER, password)
    if console is not None:
        say_how_to_sign_in(console, password, with_page=with_page and bool(stack.apis))
    return password


def say_how_to_sign_in(console: Console, password: str, *, with_page: bool) -> None:
    where = "on the page " if with_page else ""
    console.print(
        f"[bold]Sign in[/] {where}as [bold]{DEMO_USER}[/] with password [bold]{password}[/];"
        " `photoflow users add NAME` adds others.",
        soft_wrap=True,
    )


def _process(
    stack: LocalStack,
    samples: list[Path],
    timeout: float,
    console: Console,
    auth: AuthBase | None = None,
) -> int:
    """Upload the samples, wait for each and show what happened; how many ended unexpectedly."""
    derivatives_dir = STATE_DIR / "derivatives"
    client = PhotosClient(stack.api_url, auth=auth) if auth else PhotosClient(stack.api_url)
    uploads = []
    for path in samples:
        accepted = client.upload_file(path)
        uploads.append((path, accepted["photoId"]))
        console.print(f"uploaded {path.name:<16} -> photo {accepted['photoId']}")

    results = {photo_id: client.wait(photo_id, timeout=timeout) for _, photo_id in uploads}
    sfn, s3, sqs = stack.client("stepfunctions"), stack.client("s3"), stack.client("sqs")
    bucket = stack.output("PhotosBucketName")
    received: dict[str, list[dict[str, Any]]] = {}
    # Each SQS subscriber of the template gets the events its filter policy takes.
    shape = load_shape(stack.template_path, stack.options.parameters)
    for queue, events in shape.subscriber_queues.items():
        expected = sum(1 for path, _ in uploads if EVENT_OF_STATUS[expected_status(path)] in events)
        received[queue] = drain(sqs, stack.physical_id(queue), expected, 10)

    failures = 0
    for path, photo_id in uploads:
        record = results[photo_id]
        ok = record["status"] == expected_status(path)
        failures += not ok
        colour = "green" if ok else "red"
        console.rule(
            f"[{colour}]{path.name}: {record['status']}[/] (expected {expected_status(path)})"
        )
        events = sfn.get_execution_history(
            executionArn=(stack.photo_item(photo_id) or {})["executionArn"]["S"],
            maxResults=1000,
        )["events"]
        print_timeline(build_timeline(events), console)
        console.print("record:", _summary(record))
        folder = derivatives_dir / photo_id
        for item in record.get("thumbnails", []) + record.get("filters", []):
            target = folder / item["key"].split(f"{photo_id}/", 1)[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=item["key"])["Body"].read())
        if folder.exists():
            console.print(f"derivatives: {folder}/")
        for logical_id, messages in received.items():
            mine = [
                json.loads(m["Body"])
                for m in messages
                if json.loads(m["Body"])["photoId"] == photo_id
            ]
            for note in mine:
                console.print(
                    f"notification on {logical_id}: {note['eventType']} "
                    f"({len(json.dumps(note))} bytes)"
                )
    console.rule()
    counts = ", ".join(f"{k}: {len(v)}" for k, v in received.items())
    console.print(f"subscriber queues received {counts}")
    return failures


def _summary(record: dict[str, Any]) -> str:
    keep = {
        k: record[k]
        for k in ("status", "createdAt", "completedAt", "failedAt", "error")
        if record.get(k)
    }
    metadata = record.get("metadata", {})
    if metadata:
        keep["metadata"] = {
            k: metadata.get(k)
            for k in ("format", "width", "height", "camera", "takenAt", "gps", "dominantColours")
        }
    return json.dumps(keep, indent=2)
