"""The photoflow command: run the local stack and use it.

photoflow up                 start the stack and keep it running
photoflow demo               what `make run` does: process the sample photos, show what happened
photoflow upload FILE...     upload through the HTTP API (--api, --token or --iam for AWS)
photoflow status ID          a photo's record
photoflow publish-page       upload web/ to a deployed stack, pointed at its API
photoflow smoke --api URL    check a deployed stack end to end (--token or --iam, --topic)
photoflow executions         the state machine's executions
photoflow history ARN        one execution as a per-state timeline
photoflow replay HISTORY     re-run a recorded execution here and compare, state by state
photoflow mocks generate     a MockConfigFile with a test case per path worth testing
photoflow mocks check FILE   validate a MockConfigFile against the state machine
photoflow redrive PHOTO      retry a failed photo from the state that failed (RedriveExecution)
photoflow redrive-dead-letters  send a dead-letter queue's messages back (message move task)
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import boto3
import typer
from requests.auth import AuthBase
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from photoflow_local.client import ApiError, BearerToken, PhotosClient, SigV4, local_test_identity
from photoflow_local.history import Timeline, build_timeline

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(file=sys.stdout)
STATE_DIR = Path(".local-stack")
STATE_FILE = STATE_DIR / "stack.json"


def _saved() -> dict[str, Any]:
    if not STATE_FILE.exists():
        raise typer.BadParameter("no local stack is running here: start one with `photoflow up`")
    saved: dict[str, Any] = json.loads(STATE_FILE.read_text())
    return saved


def _sfn(endpoint_url: str | None) -> Any:
    endpoint = endpoint_url or _saved()["endpointUrl"]
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@app.command()
def up(
    template: Annotated[Path, typer.Option(help="SAM template to deploy")] = Path("template.yaml"),
    aws_port: Annotated[
        int, typer.Option(help="port of the local AWS endpoint (0: any free)")
    ] = 4566,
    api_port: Annotated[int, typer.Option(help="port of the local API (0: any free)")] = 3000,
    web: Annotated[Path, typer.Option(help="folder of the web page to serve")] = Path("web"),
) -> None:
    """Start the local stack and keep it running until Ctrl-C."""
    from photoflow_local.stack import LocalStack, StackOptions

    STATE_DIR.mkdir(exist_ok=True)
    log = (STATE_DIR / "functions.log").open("a", encoding="utf-8")
    debug_log = (STATE_DIR / "debug.log").open("a", encoding="utf-8")  # the engine's internals
    options = StackOptions(
        aws_port=aws_port, api_port=api_port, static_dir=web if web.is_dir() else None
    )
    with LocalStack(template, options, log_sink=log, debug_log_sink=debug_log) as stack:
        api_url = stack.api_url if stack.apis else None  # a template may define no REST API
        STATE_FILE.write_text(
            json.dumps(
                {
                    "endpointUrl": stack.endpoint_url,
                    "apiUrl": api_url,
                    "outputs": stack.stack.outputs,
                },
                indent=2,
                default=str,
            )
        )
        console.print(
            f"[bold]API[/]           {api_url or 'none (the template defines no REST API)'}"
        )
        if options.static_dir and api_url:
            console.print(f"[bold]Web page[/]      {api_url}/")
        console.print(f"[bold]AWS endpoint[/]  {stack.endpoint_url}  (boto3 or aws --endpoint-url)")
        console.print(f"[bold]Function logs[/] {STATE_DIR / 'functions.log'}")
        for logical_id, reason in stack.stack.not_emulated.items():
            console.print(f"[dim]not emulated: {logical_id} ({reason})[/]")
        console.print("Ctrl-C stops the stack.")
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    STATE_FILE.unlink(missing_ok=True)


ApiOption = Annotated[
    str | None,
    typer.Option(help="API base URL, e.g. the stack's ApiUrl (default: the local stack)"),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="PHOTOFLOW_TOKEN",
        help="an ID token of the stack's user pool, for ApiAuth COGNITO (default: the local"
        " stack's test identity)",
    ),
]
IamOption = Annotated[
    bool,
    typer.Option(help="sign requests with your AWS credentials, for ApiAuth AWS_IAM"),
]


def _client(
    api: str | None, token: str | None, iam: bool, region: str | None = None
) -> PhotosClient:
    """A client for the given API, or the running local stack's, with the identity asked for."""
    if token and iam:
        raise typer.BadParameter("give --token or --iam, not both")
    auth: AuthBase | None
    if token:
        auth = BearerToken(token)
    elif iam:
        try:
            auth = SigV4.from_session(region)
        except RuntimeError as error:
            raise typer.BadParameter(str(error)) from error
    else:
        auth = local_test_identity()
    return PhotosClient(api or _saved()["apiUrl"], auth=auth)


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    """An API's refusal as one line and exit status 1, not a traceback."""
    try:
        yield
    except ApiError as error:
        message = error.body.get("message") if isinstance(error.body, dict) else error.body
        console.print(f"[red]the API answered HTTP {error.status}[/]: {message}")
        if error.status in (401, 403):
            console.print("check --token (ApiAuth COGNITO) or --iam (ApiAuth AWS_IAM)")
        raise typer.Exit(1) from error


@app.command()
def upload(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="photos to upload")
    ],
    api: ApiOption = None,
    token: TokenOption = None,
    iam: IamOption = False,
    wait: Annotated[bool, typer.Option(help="wait for each photo to finish")] = False,
) -> None:
    """Upload photos through the HTTP API, with a progress bar."""
    client = _client(api, token, iam)
    accepted: list[tuple[Path, str]] = []
    with (
        _api_errors(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
        ) as progress,
    ):
        for path in files:
            task = progress.add_task(path.name, total=path.stat().st_size)
            result = client.upload_file(path, progress=functools.partial(progress.advance, task))
            accepted.append((path, result["photoId"]))
    with _api_errors():
        for path, photo_id in accepted:
            line = f"{path.name}: {photo_id}"
            if wait:
                line += f" {client.wait(photo_id)['status']}"
            console.print(line)


@app.command()
def status(
    photo_id: str,
    api: ApiOption = None,
    token: TokenOption = None,
    iam: IamOption = False,
) -> None:
    """Show a photo's record as the API returns it."""
    with _api_errors():
        console.print_json(data=_client(api, token, iam).photo(photo_id))


@app.command()
def smoke(
    api: Annotated[str, typer.Option(help="the stack's ApiUrl output")],
    token: TokenOption = None,
    iam: IamOption = False,
    topic: Annotated[
        str | None,
        typer.Option(
            help="the stack's PhotoEventsTopicArn output: also check that each photo is"
            " announced exactly once, on a temporary queue subscribed for the run"
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: your AWS configuration)")
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="endpoint for SQS and SNS, e.g. the local stack's")
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="seconds to wait for processing, then for notifications")
    ] = 120.0,
) -> None:
    """Check a deployed stack end to end; one PASS or FAIL line per check, exit 1 on a FAIL."""
    from photoflow_local.smoke import SmokeSettings, run_smoke

    if not token and not iam:
        raise typer.BadParameter("give --token (ApiAuth COGNITO) or --iam (ApiAuth AWS_IAM)")
    client = _client(api, token, iam, region)
    settings = SmokeSettings(topic, region, endpoint_url, timeout)
    raise typer.Exit(run_smoke(client, settings, console))


@app.command("publish-page")
def publish_page(
    stack_name: Annotated[
        str | None, typer.Option(help="the deployed stack: its outputs say where and what")
    ] = None,
    bucket: Annotated[str | None, typer.Option(help="the page bucket, without a stack")] = None,
    api: Annotated[str | None, typer.Option(help="the API's URL, without a stack")] = None,
    web: Annotated[Path, typer.Option(help="folder of the web page")] = Path("web"),
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: your AWS configuration)")
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="endpoint for S3 and CloudFormation, e.g. the local stack's")
    ] = None,
) -> None:
    """Upload web/ to the stack's page bucket with a config.js for its API; print PageUrl."""
    from botocore.exceptions import BotoCoreError, ClientError

    from photoflow_local.page import PageError, PageTarget, publish, target_from_stack

    if bool(stack_name) == bool(bucket and api):
        raise typer.BadParameter("give --stack-name, or both --bucket and --api")
    session = boto3.session.Session(region_name=region)
    try:
        if stack_name:
            cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
            target = target_from_stack(cloudformation, stack_name)
        else:
            target = PageTarget(str(bucket), str(api), None, {})
        keys = publish(session.client("s3", endpoint_url=endpoint_url), target, web)
    except (PageError, ClientError, BotoCoreError) as error:
        console.print(f"[red]not published:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"published {len(keys)} files to s3://{target.bucket} for {target.api_url}")
    if target.page_url:
        console.print(f"the page: {target.page_url}")


@app.command()
def executions(
    endpoint_url: Annotated[str | None, typer.Option(help="Step Functions endpoint")] = None,
    limit: int = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON, one object per execution")
    ] = False,
) -> None:
    """List the executions of every state machine, newest first."""
    sfn = _sfn(endpoint_url)
    executions = [
        execution
        for machine in sfn.list_state_machines()["stateMachines"]
        for execution in sfn.list_executions(
            stateMachineArn=machine["stateMachineArn"], maxResults=limit
        )["executions"]
    ]
    executions.sort(key=lambda e: e["startDate"], reverse=True)
    if as_json:
        console.print_json(data=executions, default=str)
        return
    table = Table("name", "status", "started", "arn")
    for execution in executions:
        table.add_row(
            execution["name"],
            execution["status"],
            str(execution["startDate"]),
            execution["executionArn"],
        )
    console.print(table)


@app.command()
def history(
    execution_arn: str,
    endpoint_url: Annotated[str | None, typer.Option(help="Step Functions endpoint")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the raw history, as the AWS CLI does")
    ] = False,
) -> None:
    """One execution as a per-state timeline with durations, retries and errors."""
    sfn = _sfn(endpoint_url)
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    if as_json:
        console.print_json(data={"events": events}, default=str)
        return
    print_timeline(build_timeline(events))


@app.command()
def replay(
    history_file: Annotated[
        Path | None, typer.Argument(exists=True, dir_okay=False, help="get-execution-history JSON")
    ] = None,
    describe: Annotated[
        Path | None,
        typer.Option(exists=True, help="describe-execution JSON, for a truncated input"),
    ] = None,
    execution_arn: Annotated[
        str | None, typer.Option(help="fetch this execution's history")
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="Step Functions endpoint to fetch from (default: AWS)")
    ] = None,
    recorded: Annotated[
        bool, typer.Option("--recorded/--live", help="Task results from the history, or run live")
    ] = True,
    photo: Annotated[
        Path | None, typer.Option(exists=True, help="live mode: the photo the input refers to")
    ] = None,
    template: Annotated[Path, typer.Option(help="SAM template")] = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(help="logical id of the state machine")
    ] = None,
) -> None:
    """Re-run a recorded execution on the local stack; exit 1 on any difference."""
    from photoflow_local.replay import Recording, ReplayError
    from photoflow_local.replay import replay as run_replay
    from photoflow_local.stack import LocalStack, StackOptions

    try:
        if execution_arn:
            recording = Recording.fetch(execution_arn, endpoint_url)
        elif history_file:
            recording = Recording.load(history_file, describe)
        else:
            raise typer.BadParameter("give a HISTORY file or --execution-arn")
        STATE_DIR.mkdir(exist_ok=True)
        with (
            (STATE_DIR / "functions.log").open("a", encoding="utf-8") as log,
            LocalStack(template, StackOptions(time_scale=0.01), log_sink=log) as stack,
        ):
            result = run_replay(
                recording,
                stack,
                "recorded" if recorded else "live",
                state_machine=state_machine,
                photo=photo,
            )
    except ReplayError as error:
        console.print(f"[red]cannot replay: {error}[/]")
        raise typer.Exit(2) from None
    print_replay(result)
    raise typer.Exit(0 if result.identical else 1)


def print_replay(result: Any) -> None:
    for warning in result.warnings:
        console.print(f"[yellow]{warning}[/]")
    left, right = result.recorded.canonical(), result.replayed.canonical()
    differing = {d.position for d in result.differences}
    table = Table("#", "recorded", "attempts", "replayed", "attempts", "", box=None)
    for position in range(max(len(left), len(right))):
        a = left[position] if position < len(left) else None
        b = right[position] if position < len(right) else None
        mark = "[red]≠[/]" if position in differing else "="
        table.add_row(
            str(position + 1),
            ("  " * a.depth + a.name) if a else "-",
            str(a.attempts or "") if a else "",
            ("  " * b.depth + b.name) if b else "-",
            str(b.attempts or "") if b else "",
            mark,
        )
    console.print(table)
    console.print(
        f"recorded: {result.recorded.status}   replayed ({result.mode}): {result.replayed.status}"
    )
    if result.identical:
        console.print("[green]replayed identically[/]")
    else:
        console.print(f"[red]{result.differences[0].describe()}[/]")


def print_timeline(timeline: Timeline) -> None:
    table = Table("state", "type", "ms", "attempts", "errors", box=None, pad_edge=False)
    for state in timeline.states:
        errors = ", ".join(error for error, _ in state.errors)
        duration = f"{state.duration_ms:.0f}" if state.duration_ms is not None else "-"
        table.add_row(state.name, state.kind, duration, str(state.attempts or ""), errors)
    console.print(table)
    total = f"{timeline.duration_ms:.0f} ms" if timeline.duration_ms is not None else "running"
    console.print(f"execution {timeline.status} in {total}")


@app.command()
def demo(
    photos: Annotated[Path, typer.Option(help="folder of sample photos")] = Path("events/photos"),
    template: Annotated[Path, typer.Option(help="SAM template")] = Path("template.yaml"),
    timeout: Annotated[float, typer.Option(help="seconds to wait for the photos")] = 60.0,
) -> None:
    """Start the stack, process the sample photos through the HTTP API, show what happened."""
    from photoflow_local.demo import run_demo

    raise typer.Exit(run_demo(photos, template, timeout, console))


@app.command()
def soak(
    photos: Annotated[int, typer.Option(help="how many photos to upload")] = 300,
    fault_rate: Annotated[float, typer.Option(help="chance that a step or consumer fails")] = 0.1,
    corrupt_share: Annotated[float, typer.Option(help="share of corrupt photos")] = 0.05,
    timeout: Annotated[
        float | None, typer.Option(help="seconds to wait for every outcome (2 a photo)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    hostile: Annotated[
        bool, typer.Option(help="clients of every kind, not only good ones")
    ] = False,
    crash: Annotated[bool, typer.Option(help="kill sandboxes and the ingest poller")] = False,
    template: Annotated[Path, typer.Option(help="SAM template")] = Path("template.yaml"),
) -> None:
    """Many photos with faults injected; exit 1 unless nothing was lost, announced twice,
    changed after it was terminal or reset."""
    from photoflow_local.soak import SoakSettings, print_report, run_soak

    started = time.monotonic()
    settings = SoakSettings(photos, fault_rate, corrupt_share, timeout, seed, hostile, crash)
    report = run_soak(template, settings)
    raise typer.Exit(print_report(report, time.monotonic() - started, console))


@app.command()
def redrive(
    target: Annotated[str, typer.Argument(help="a photo id, or its execution's ARN")],
    wait: Annotated[float, typer.Option(help="seconds to wait for its end (0: no wait)")] = 60.0,
    endpoint_url: Annotated[str | None, typer.Option(help="AWS endpoint")] = None,
) -> None:
    """Retry a failed photo: its execution resumes at the state that failed, nothing that
    succeeded runs again or is announced again. Exit 1 when refused or failed again."""
    from photoflow_local import operations

    endpoint = endpoint_url or _saved()["endpointUrl"]
    table = _saved()["outputs"]["PhotosTableName"]
    sfn, dynamodb = (operations.client(s, endpoint) for s in ("stepfunctions", "dynamodb"))
    try:
        done = operations.redrive_photo(sfn, dynamodb, table, target, wait)
    except operations.NotRedrivable as refused:
        console.print(f"[red]not redriven[/]: {refused}")
        raise typer.Exit(1) from None
    console.print(
        f"{done.photo_id}: {done.execution_arn} (it had failed: {done.error}) {done.status}"
    )
    raise typer.Exit(0 if done.status in ("SUCCEEDED", "RUNNING") else 1)


@app.command("redrive-dead-letters")
def redrive_dead_letters(
    queue_url: Annotated[
        str | None, typer.Argument(help="dead-letter queue (default: the ingest one)")
    ] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for the move task")] = 60.0,
    endpoint_url: Annotated[str | None, typer.Option(help="AWS endpoint")] = None,
) -> None:
    """Send a dead-letter queue's messages back to the queue each came from (SQS message
    move task). Exit 1 unless the task COMPLETED."""
    from photoflow_local import operations

    endpoint = endpoint_url or _saved()["endpointUrl"]
    queue = queue_url or _saved()["outputs"]["IngestDeadLetterQueueUrl"]
    outcome = operations.redrive_dead_letters(operations.client("sqs", endpoint), queue, None, wait)
    console.print(f"{outcome.status}: {outcome.moved} of {outcome.to_move} messages moved back")
    raise typer.Exit(0 if outcome.status == "COMPLETED" else 1)


mocks_app = typer.Typer(help="MockConfigFiles (Step Functions Local format) for the state machine.")
app.add_typer(mocks_app, name="mocks")


@mocks_app.command("generate")
def mocks_generate(
    output: Annotated[Path, typer.Option(help="where to write the MockConfigFile")] = Path(
        "MockConfigFile.json"
    ),
    template: Annotated[Path, typer.Option(help="SAM template")] = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(help="logical id of the state machine")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="state machine name in the file (default: the logical id)")
    ] = None,
    results_from: Annotated[
        Path | None,
        typer.Option(exists=True, help="a recorded history whose Task results to reuse"),
    ] = None,
) -> None:
    """Write a MockConfigFile with a test case per path worth testing, and list them."""
    from photoflow_local import mocks
    from photoflow_local.replay import Recording

    logical_id, definition = mocks.load_definition(template, state_machine)
    cases = mocks.generate(definition)
    results = None
    if results_from is not None:
        timeline = Recording.load(results_from).timeline
        results = {
            s.name: s.outcomes[-1].output
            for s in timeline.states
            if s.kind == "Task" and s.outcomes and not s.outcomes[-1].failed
        }
    config = mocks.mock_config(definition, name or logical_id, cases, results)
    output.write_text(json.dumps(config, indent=2) + "\n")
    table = Table("test case", "ends in", "status", "error", "injected", box=None)
    for case in cases:
        injected = ", ".join(f"{s}: {e} x{n}" for s, (e, n) in case.injections.items())
        table.add_row(case.name, case.last_state, case.status, case.error or "", injected)
    console.print(table)
    console.print(f"{len(cases)} test cases written to {output}")


@mocks_app.command("check")
def mocks_check(
    mock_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    template: Annotated[Path, typer.Option(help="SAM template")] = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(help="logical id of the state machine")
    ] = None,
    name: Annotated[list[str] | None, typer.Option(help="other names of the state machine")] = None,
) -> None:
    """Validate a MockConfigFile against the state machine; exit 1 with every problem found."""
    from photoflow_local import mocks

    logical_id, definition = mocks.load_definition(template, state_machine)
    try:
        config = json.loads(mock_file.read_text(encoding="utf-8"))
    except ValueError as error:
        console.print(f"[red]{mock_file}: not JSON: {error}[/]")
        raise typer.Exit(1) from None
    problems = mocks.check(config, definition, {logical_id, *(name or [])})
    for problem in problems:
        console.print(f"[red]{mock_file}: {problem}[/]")
    if problems:
        raise typer.Exit(1)
    console.print(f"{mock_file}: valid for {logical_id}")


@app.command("test-state")
def test_state_command(
    state: Annotated[
        str | None, typer.Option(help="the state to test, in a whole definition")
    ] = None,
    definition: Annotated[
        Path | None, typer.Option(help="a state or state machine definition file")
    ] = None,
    template: Annotated[Path, typer.Option(help="SAM template")] = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(help="its state machine's logical id")
    ] = None,
    input: Annotated[str, typer.Option(help="the state's input (JSON)")] = "{}",
    mock_result: Annotated[str | None, typer.Option(help="mocked result (JSON)")] = None,
    mock_error: Annotated[str | None, typer.Option(help="mocked error name")] = None,
    mock_cause: Annotated[str, typer.Option(help="mocked error cause")] = "",
    inspection_level: Annotated[str, typer.Option(help="INFO, DEBUG or TRACE")] = "DEBUG",
    role_arn: Annotated[str | None, typer.Option(help="role (a Task that is not mocked)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print TestState's answer")] = False,
    endpoint_url: Annotated[str | None, typer.Option(help="AWS endpoint")] = None,
) -> None:
    """Run one state through the TestState API; exit 1 when it FAILED."""
    from photoflow_local import test_state as testing

    options = testing.TestStateOptions(
        state,
        definition,
        template,
        state_machine,
        input,
        mock_result,
        mock_error,
        mock_cause,
        inspection_level,
        role_arn,
    )
    try:
        params = testing.request(options)
    except (ValueError, KeyError) as error:
        raise typer.BadParameter(str(error)) from None
    # The local endpoint serves TestState without its "sync-" host prefix.
    os.environ.setdefault("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    answer = _sfn(endpoint_url).test_state(**params)
    answer.pop("ResponseMetadata", None)
    if as_json:
        sys.stdout.write(json.dumps(answer, indent=2) + "\n")
    else:
        for line in testing.summary(answer):
            console.print(line, markup=False, highlight=False)
    raise typer.Exit(testing.exit_code(answer))


if __name__ == "__main__":
    app()
