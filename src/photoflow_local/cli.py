"""The photoflow command: run the local stack and use it.

photoflow up                 start the local stack; Ctrl-C stops it
photoflow deploy             update the running local stack to the template as it is now
                             (and --parameter-overrides), keeping its data, as `sam deploy` does
photoflow demo               what `make run` does: the sample photos through the workflow
photoflow upload PHOTO...    upload through the HTTP API; a summary (--wait: how each ended)
photoflow status PHOTO       a photo's record
photoflow executions         the state machines' executions, newest first
photoflow history PHOTO      one execution as a per-state timeline
photoflow replay HISTORY     re-run a recorded execution here and compare, state by state
photoflow mocks generate     a MockConfigFile with a test case per path worth testing
photoflow mocks check FILE   validate a MockConfigFile against the state machine
photoflow publish-page       upload web/ to a deployed stack, pointed at its API
photoflow smoke --api URL    check a deployed stack end to end (--token or --iam, --topic)
photoflow redrive PHOTO      retry a failed photo from the state that failed (RedriveExecution)
photoflow redrive-dead-letters  send a dead-letter queue's messages back (message move task)
photoflow reprocess          make stored photos again with the configuration deployed now
photoflow reprocess status   how far a reprocessing run has got, and what it did

PHOTO is whatever a person has in hand: a photo id, an execution name or an execution
ARN. Expected failures are one line and an exit status of their own (failures.py).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import boto3
import requests
import typer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from requests.auth import AuthBase
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from photoflow.keys import is_photo_id
from photoflow_local import running
from photoflow_local.client import (
    ApiError,
    BearerToken,
    PhotosClient,
    SigV4,
    StillRunning,
    local_test_identity,
)
from photoflow_local.executions import (
    EXPRESS_HINT,
    LIST_HINT,
    express_history,
    express_machines,
    find_execution,
    is_express_arn,
    list_executions,
    photo_id_for,
    started,
    took,
)
from photoflow_local.failures import EXIT_CODES_HELP, ExitCode, Failure
from photoflow_local.history import build_timeline
from photoflow_local.timeline_view import print_timeline

console = Console(file=sys.stdout)
_options: dict[str, bool] = {}  # the global options of this invocation

HELP = (
    "Run the PhotoFlow workflow on the local stack, and use it (or a deployed stack).\n\n"
    "Start with `photoflow up` in one terminal; in another, `photoflow upload PHOTO...`, then"
    " `photoflow executions` and `photoflow history PHOTO`. PHOTO is what you have in hand:"
    " a photo id, an execution name or an execution ARN."
)


# ---------------------------------------------------------------- help and failures
class _Argument(TyperArgument):
    """An argument shown by its metavar (PHOTO...), not by its Python type (<list[Path]>)."""

    @property
    def display_name_raw(self) -> str:
        name = self.metavar or self.name or ""
        return f"{name}..." if self.nargs != 1 else name

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self.display_name_raw

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"


def _plain_help(params: list[Any]) -> list[Any]:
    # Typer labels every flag `<bool>` (--help too) and an argument by its Python type.
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_help(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_help(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        """Every command's expected failures as one line and their exit status."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as error:
            if _options.get("debug"):
                raise
            failure = as_failure(error)
            console.print(f"[red]{escape(failure.line())}[/]", soft_wrap=True)
            raise typer.Exit(failure.code) from None


class _Typer(typer.Typer):
    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = _Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    help=HELP,
    epilog=EXIT_CODES_HELP,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    debug: Annotated[
        bool,
        typer.Option("--debug", help="show the traceback of any error", envvar="PHOTOFLOW_DEBUG"),
    ] = False,
) -> None:
    _options["debug"] = debug


def as_failure(error: Exception) -> Failure:
    """What a person is told about ``error``: one line, what to do, an exit status."""
    from photoflow_local.stack import PortTaken
    from photoflow_local.template import TemplateError

    known: list[tuple[Any, Any]] = [
        (Failure, lambda e: e),
        (TemplateError, lambda e: Failure(str(e), code=ExitCode.USAGE)),
        (PortTaken, _port_taken),
        (ApiError, _api_failure),
        (requests.ConnectionError | EndpointConnectionError, _unreachable),
        (ClientError, _aws_refusal),
        (
            NoCredentialsError | NoRegionError,
            lambda e: Failure(str(e), "configure AWS credentials and a region (aws configure)"),
        ),
        (StillRunning, lambda e: Failure(str(e), "`photoflow status PHOTO` shows it later")),
    ]
    for kind, convert in known:
        if isinstance(error, kind):
            failure: Failure = convert(error)
            return failure
    return Failure(
        f"unexpected error: {type(error).__name__}: {error}",
        "run again with --debug for the traceback, and report it",
        ExitCode.BUG,
    )


def _port_taken(error: Any) -> Failure:
    return Failure(
        f"port {error.port} is taken by another program",
        f"stop it, or choose another port: photoflow up {error.option} 0 (any free port)",
        ExitCode.IN_USE,
    )


def _aws_refusal(error: ClientError) -> Failure:
    details = error.response.get("Error", {})
    return Failure(f"AWS answered {details.get('Code')}: {details.get('Message')}")


def _api_failure(error: ApiError) -> Failure:
    body = error.body if isinstance(error.body, dict) else {"message": error.body}
    name = f" {body['error']}" if body.get("error") else ""
    what = f"the API answered HTTP {error.status}{name}: {body.get('message')}"
    if error.status in (401, 403):
        return Failure(what, "check --token (ApiAuth COGNITO) or --iam (ApiAuth AWS_IAM)")
    if error.status == 404:
        return Failure(what, "`photoflow executions` lists the photos", ExitCode.NOT_FOUND)
    return Failure(what)


def _unreachable(error: Exception) -> Failure:
    if running.STATE_FILE.exists() and not running.is_running():
        running.saved()  # raises: the local stack stopped without cleaning up
    request = getattr(error, "request", None)
    url = getattr(request, "url", None) or getattr(error, "kwargs", {}).get("endpoint_url")
    return Failure(
        f"nothing answers at {url}",
        "is the stack up? (`photoflow up` here, or check --api / --endpoint-url)",
        ExitCode.NO_STACK,
    )


# ---------------------------------------------------------------- shared options
ApiOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL", help="API base URL, e.g. the stack's ApiUrl (default: the local stack)"
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="PHOTOFLOW_TOKEN",
        metavar="TOKEN",
        help="an ID token of the stack's user pool, for ApiAuth COGNITO (default: sign in to"
        " the local stack as its test user)",
    ),
]
IamOption = Annotated[
    bool,
    typer.Option(help="sign requests with your AWS credentials, for ApiAuth AWS_IAM"),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(metavar="URL", help="Step Functions endpoint (default: the local stack's)"),
]
PhotoArgument = Annotated[
    str,
    typer.Argument(
        metavar="PHOTO", help="a photo id, or its execution's name or ARN", show_default=False
    ),
]
TemplateOption = Annotated[Path, typer.Option(metavar="FILE", help="SAM template")]


class WorkflowType(StrEnum):
    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


ParameterOverridesOption = Annotated[
    list[str] | None,
    typer.Option(
        metavar="KEY=VALUE...",
        help="template parameters, as `sam deploy` takes them: 'WorkflowType=EXPRESS"
        " WorkflowLogLevel=ALL' (or ParameterKey=K,ParameterValue=V)",
    ),
]


def _overrides(template: Path, texts: list[str] | None) -> dict[str, str]:
    """The template's parameter values given on the command line, checked against it."""
    from photoflow_local.template import check_parameters, load_sam, parameter_overrides

    overrides = parameter_overrides(texts or [])
    check_parameters(load_sam(template), template, overrides)
    return overrides


def _sfn(endpoint_url: str | None, service: str = "stepfunctions") -> Any:
    endpoint = endpoint_url or running.saved()["endpointUrl"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


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
    if api is None:
        api = running.saved()["apiUrl"]
        if api is None:
            raise Failure("the local stack running here has no REST API (its template has none)")
    return PhotosClient(api, auth=auth)


# ---------------------------------------------------------------- the local stack
@app.command()
def up(
    template: Annotated[Path, typer.Option(metavar="FILE", help="SAM template to deploy")] = Path(
        "template.yaml"
    ),
    aws_port: Annotated[
        int, typer.Option(metavar="PORT", help="port of the local AWS endpoint (0: any free)")
    ] = 4566,
    api_port: Annotated[
        int, typer.Option(metavar="PORT", help="port of the local API and page (0: any free)")
    ] = 3000,
    web: Annotated[Path, typer.Option(metavar="DIR", help="folder of the web page")] = Path("web"),
    parameter_overrides: ParameterOverridesOption = None,
) -> None:
    """Start the local stack and keep it running until Ctrl-C."""
    from photoflow_local.demo import add_demo_user
    from photoflow_local.stack import LocalStack, StackOptions

    parameters = _overrides(template, parameter_overrides)
    with running.claim() as claim, running.Supervisor(serves_updates=True) as supervisor:
        if claim.stale is not None:
            console.print(
                f"removed {running.STATE_FILE}: the local stack that wrote it (pid {claim.stale})"
                " stopped without cleaning up",
                soft_wrap=True,
            )
        options = StackOptions(
            aws_port=aws_port,
            api_port=api_port,
            static_dir=web if web.is_dir() else None,
            parameters=parameters,
        )
        given = " ".join(f"{k}={v}" for k, v in parameters.items())
        console.print(f"starting the local stack from {template}{f' ({given})' * bool(given)} ...")
        started_at = time.monotonic()
        try:
            with (
                running.run_log(running.FUNCTIONS_LOG) as log,
                running.run_log(running.DEBUG_LOG) as debug_log,
                LocalStack(template, options, log_sink=log, debug_log_sink=debug_log) as stack,
            ):
                supervisor.on_update = functools.partial(_update_stack, stack, claim)
                claim.publish({**running.stack_state(stack), running.SERVES_UPDATES: True})
                _print_addresses(stack, options.static_dir is not None)
                add_demo_user(stack, console, with_page=options.static_dir is not None)
                up_in = f"up in {time.monotonic() - started_at:.1f} s"
                console.print(f"{up_in}. {MEMORY_NOTE}", soft_wrap=True)
                console.print(
                    "`photoflow deploy` updates it to a changed template, keeping its data."
                )
                console.print("Ctrl-C stops the stack.")
                supervisor.wait()
        except KeyboardInterrupt:
            console.print("stopped before it was ready")
            return
    console.print("stopped")


MEMORY_NOTE = "Everything is kept in memory: stopping the stack loses every photo."


def _update_stack(stack: Any, claim: running.Claim, request: dict[str, Any]) -> dict[str, Any]:
    """In the `photoflow up` process: one `photoflow deploy` request, answered."""
    from photoflow_local.template import TemplateError

    template = Path(request["template"])
    try:
        update = stack.update(template, request.get("overrides", {}))
    except TemplateError as error:
        return {"code": int(ExitCode.USAGE), "error": str(error)}
    except ClientError as error:  # the local AWS refused a step: the update was rolled back
        return {"code": int(ExitCode.FAILED), "error": _aws_refusal(error).line()}
    if update.restart:
        console.print(
            f"deploy of {template} refused: {len(update.restart)} change(s) need a restart"
        )
        return {"code": int(ExitCode.FAILED), "lines": update.restart}
    lines = update.parameter_changes() + update.changes
    claim.publish({**running.stack_state(stack), running.SERVES_UPDATES: True})
    console.print(
        f"deployed {template}: {len(lines)} change(s)"
        if lines
        else f"deployed {template}: no changes"
    )
    for line in lines:
        console.print(f"  {escape(line)}", soft_wrap=True)
    return {"code": int(ExitCode.OK), "lines": lines}


@app.command()
def deploy(
    template: Annotated[Path, typer.Option(metavar="FILE", help="SAM template to deploy")] = Path(
        "template.yaml"
    ),
    parameter_overrides: ParameterOverridesOption = None,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long to wait for the update")
    ] = 120.0,
) -> None:
    """Update the stack `photoflow up` runs here to the template as it is now, keeping its data.

    As `sam deploy` updates a stack in place: functions' environment, memory, timeout and code,
    and state machines' definitions (running executions keep theirs). A parameter not given
    keeps the stack's value, as with `sam deploy`. Anything else (a resource added or removed,
    another property changed) needs `photoflow up` restarted: the update is then refused
    whole, each such change named, and nothing is changed."""
    overrides = _overrides(template, parameter_overrides)
    answer = running.request_update(
        {"template": str(template.resolve()), "overrides": overrides}, timeout
    )
    code = ExitCode(answer.get("code", ExitCode.BUG))
    if answer.get("error"):
        raise Failure(answer["error"], code=code)
    lines: list[str] = answer.get("lines", [])
    if code != ExitCode.OK:
        for line in lines:
            console.print(escape(line), soft_wrap=True)
        raise Failure(
            f"not deployed: {len(lines)} change(s) need the stack created anew, nothing changed",
            "stop `photoflow up` and start it again (its data is lost then)",
            code,
        )
    for line in lines:
        console.print(escape(line), soft_wrap=True)
    console.print(f"deployed {template}" + ("" if lines else ": no changes"))


def _print_addresses(stack: Any, with_page: bool) -> None:
    api_url = stack.api_url if stack.apis else None
    console.print(f"[bold]API[/]           {api_url or 'none (the template defines no REST API)'}")
    if with_page and api_url:
        console.print(f"[bold]Web page[/]      {api_url}/")
    console.print(f"[bold]AWS endpoint[/]  {stack.endpoint_url}  (boto3 or aws --endpoint-url)")
    console.print(f"[bold]Function logs[/] {running.FUNCTIONS_LOG}")
    for logical_id, reason in stack.stack.not_emulated.items():
        console.print(f"[dim]not emulated: {logical_id} ({reason})[/]")


@app.command()
def demo(
    photos: Annotated[Path, typer.Option(metavar="DIR", help="folder of sample photos")] = Path(
        "events/photos"
    ),
    template: TemplateOption = Path("template.yaml"),
    web: Annotated[Path, typer.Option(metavar="DIR", help="folder of the web page")] = Path("web"),
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long to wait for the photos")
    ] = 60.0,
    keep: Annotated[
        bool | None,
        typer.Option(
            "--keep/--no-keep",
            help="keep the stack and its page up until Ctrl-C (default: when run in a terminal)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the stack, process the sample photos through the HTTP API, show what happened."""
    from photoflow_local.demo import run_demo

    if keep is None:
        keep = sys.stdin.isatty() and sys.stdout.isatty()
    raise typer.Exit(run_demo(photos, template, timeout, console, web=web, keep=keep))


# ---------------------------------------------------------------- photos
@app.command()
def upload(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="PHOTO", exists=True, dir_okay=False, help="photos to upload"),
    ],
    api: ApiOption = None,
    token: TokenOption = None,
    iam: IamOption = False,
    wait: Annotated[
        bool, typer.Option(help="wait for each photo to finish and show how it ended")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON, one object per file")
    ] = False,
) -> None:
    """Upload photos through the HTTP API, then a summary; exit 1 if any was refused or FAILED."""
    client = _client(api, token, iam)
    results = [_Upload(path) for path in files]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=console,
        disable=as_json,  # the JSON alone on stdout, for a program to read
    ) as progress:
        for result in results:
            task = progress.add_task(result.path.name, total=result.path.stat().st_size)
            result.send(client, functools.partial(progress.advance, task))
    if wait:
        for result in results:
            result.wait(client)
    if as_json:
        console.print_json(data=[result.as_dict() for result in results])
    else:
        _print_uploads(results)
    if any(result.problem for result in results):
        raise typer.Exit(ExitCode.FAILED)


class _Upload:
    """One file given to `photoflow upload` and what became of it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.photo_id: str | None = None
        self.status = "not sent"
        self.error: str | None = None
        self.problem = False

    def send(self, client: PhotosClient, progress: Any) -> None:
        try:
            self.photo_id = client.upload_file(self.path, progress=progress)["photoId"]
            self.status = "ACCEPTED"
        except ApiError as error:
            if error.status in (401, 403):
                raise  # every other file would be refused the same way
            body = error.body if isinstance(error.body, dict) else {"message": error.body}
            self.status = f"refused (HTTP {error.status})"
            self.error = f"{body.get('error') or 'Error'}: {body.get('message')}"
            self.problem = True

    def wait(self, client: PhotosClient) -> None:
        if self.photo_id is None:
            return
        try:
            record = client.wait(self.photo_id)
        except StillRunning as still:
            self.status = (still.last or {}).get("status", "unknown")
            self.error = "still running after 60 s: `photoflow status PHOTO` shows it later"
            self.problem = True
            return
        self.status = record["status"]
        if self.status == "FAILED":
            error = record.get("error") or {}
            self.error = f"{error.get('name')}: {error.get('message')}"
            self.problem = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "photoId": self.photo_id,
            "status": self.status,
            "error": self.error,
        }


def _print_uploads(results: list[_Upload]) -> None:
    table = Table("file", "photo", "status", box=None, pad_edge=False)
    for column in table.columns:
        column.overflow = "fold"
    for result in results:
        colour = "red" if result.problem else "green"
        table.add_row(result.path.name, result.photo_id or "-", f"[{colour}]{result.status}[/]")
    console.print(table)
    for result in results:
        if result.error:
            line = f"{result.path.name}: {result.error}"
            console.print(f"[red]{escape(line)}[/]", soft_wrap=True)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in counts.items())
    files = "1 file" if len(results) == 1 else f"{len(results)} files"
    console.print(f"{files}: {summary}")


@app.command()
def status(
    photo: PhotoArgument,
    api: ApiOption = None,
    token: TokenOption = None,
    iam: IamOption = False,
) -> None:
    """Show a photo's record as the API returns it."""
    photo_id = photo_id_for(photo)
    console.print_json(data=_client(api, token, iam).photo(photo_id))


# ---------------------------------------------------------------- executions
@app.command()
def executions(
    endpoint_url: EndpointOption = None,
    limit: Annotated[
        int, typer.Option(metavar="N", help="at most N executions per state machine")
    ] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON with full names and ARNs")
    ] = False,
) -> None:
    """List the executions of every state machine, newest first."""
    sfn = _sfn(endpoint_url)
    found = list_executions(sfn, max(limit, 1))
    if as_json:
        console.print_json(data=found, default=_json_value)
        return
    for name in express_machines(sfn):
        console.print(f"[dim]{name} is an EXPRESS state machine: {EXPRESS_HINT}[/]", soft_wrap=True)
    if not found:
        console.print("no executions yet: `photoflow upload PHOTO...` starts one")
        return
    machines = {execution["stateMachineArn"] for execution in found}
    table = Table("photo or execution", box=None, pad_edge=False)
    if len(machines) > 1:
        table.add_column("state machine")
    for heading in ("status", "started", "took"):
        table.add_column(heading)
    for column in table.columns:
        column.overflow = "fold"
    for execution in found:
        row = [execution["photoId"] or execution["name"]]
        if len(machines) > 1:
            row.append(execution["stateMachineArn"].rsplit(":", 1)[-1])
        row += [execution["status"], started(execution["startDate"]), took(execution)]
        table.add_row(*row)
    console.print(table)
    console.print("[dim]`photoflow history PHOTO` shows one; --json gives full names and ARNs[/]")


def _json_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@app.command()
def history(
    execution: Annotated[
        str,
        typer.Argument(
            metavar="PHOTO",
            help="a photo id, an execution name or an execution ARN",
            show_default=False,
        ),
    ],
    endpoint_url: EndpointOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the raw history, as the AWS CLI does")
    ] = False,
) -> None:
    """One execution as a per-state timeline with durations, retries and errors."""
    sfn = _sfn(endpoint_url)
    events: list[dict[str, Any]] = []
    if is_express_arn(execution.strip()):  # no history but its log events
        logs = _sfn(endpoint_url, "logs")
        events = express_history(sfn, logs, execution.strip())
    else:
        execution_arn = find_execution(sfn, execution)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        events = [event for page in pages for event in page["events"]]
    if as_json:
        console.print_json(data={"events": events}, default=_json_value)
        return
    print_timeline(build_timeline(events), console)


@app.command()
def replay(
    history_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="HISTORY",
            exists=True,
            dir_okay=False,
            help="get-execution-history JSON, or an Express execution's log events"
            " (aws logs filter-log-events output, or a CloudWatch Logs export)",
        ),
    ] = None,
    describe: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", exists=True, help="describe-execution JSON, for a truncated input"
        ),
    ] = None,
    execution_arn: Annotated[
        str | None,
        typer.Option(
            "--execution",
            "--execution-arn",
            metavar="EXECUTION",
            help="fetch this execution's history: its ARN, or its name or photo id",
        ),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Step Functions endpoint to fetch from (default: AWS)"),
    ] = None,
    recorded: Annotated[
        bool, typer.Option("--recorded/--live", help="Task results from the history, or run live")
    ] = True,
    photo: Annotated[
        Path | None,
        typer.Option(metavar="FILE", exists=True, help="live mode: the photo the input refers to"),
    ] = None,
    template: TemplateOption = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(metavar="ID", help="logical id of the state machine")
    ] = None,
) -> None:
    """Re-run a recorded execution on the local stack; exit 1 on any difference."""
    from photoflow_local.replay import Recording, ReplayError
    from photoflow_local.replay import replay as run_replay
    from photoflow_local.stack import LocalStack, StackOptions

    try:
        if execution_arn and is_express_arn(execution_arn):  # its history is its log events
            sfn, logs = (
                boto3.client(s, endpoint_url=endpoint_url) for s in ("stepfunctions", "logs")
            )
            events = express_history(sfn, logs, execution_arn, need_data=True)
            recording = Recording.from_documents({"events": events}, None, source=execution_arn)
        elif execution_arn:
            if not execution_arn.startswith("arn:"):
                sfn = boto3.client("stepfunctions", endpoint_url=endpoint_url)
                execution_arn = find_execution(sfn, execution_arn)
            recording = Recording.fetch(execution_arn, endpoint_url)
        elif history_file:
            recording = Recording.load(history_file, describe)
        else:
            raise typer.BadParameter("give a HISTORY file or --execution")
        # The replay's own stack logs to a file of its own: never into the log of a stack
        # running here, where its lines would read like a second run of that stack's photos.
        with (
            running.run_log(running.REPLAY_LOG) as log,
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
        console.print(f"[red]cannot replay: {escape(str(error))}[/]", soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    print_replay(result)
    console.print(f"[dim]the replay's function logs: {running.REPLAY_LOG}[/]", soft_wrap=True)
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


# ---------------------------------------------------------------- deployed stacks
@app.command("publish-page")
def publish_page(
    stack_name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="the deployed stack: its outputs say where and what"),
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(metavar="NAME", help="the page bucket, without a stack")
    ] = None,
    api: Annotated[
        str | None, typer.Option(metavar="URL", help="the API's URL, without a stack")
    ] = None,
    web: Annotated[Path, typer.Option(metavar="DIR", help="folder of the web page")] = Path("web"),
    region: Annotated[
        str | None,
        typer.Option(metavar="REGION", help="AWS region (default: your AWS configuration)"),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="endpoint for S3 and CloudFormation, e.g. the local stack's"
        ),
    ] = None,
) -> None:
    """Upload web/ to the stack's page bucket with a config.js for its API; print PageUrl."""
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
        console.print(f"[red]not published:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"published {len(keys)} files to s3://{target.bucket} for {target.api_url}")
    if target.page_url:
        console.print(f"the page: {target.page_url}")


@app.command()
def smoke(
    api: Annotated[str, typer.Option(metavar="URL", help="the stack's ApiUrl output")],
    token: TokenOption = None,
    iam: IamOption = False,
    topic: Annotated[
        str | None,
        typer.Option(
            metavar="ARN",
            help="the stack's PhotoEventsTopicArn output: also check that each photo is"
            " announced exactly once, on a temporary queue subscribed for the run",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(metavar="REGION", help="AWS region (default: your AWS configuration)"),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="endpoint for SQS and SNS, e.g. the local stack's"),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            min=1,
            help="seconds to wait for processing, then for notifications",
        ),
    ] = 120.0,
) -> None:
    """Check a deployed stack end to end; one PASS or FAIL line per check, exit 1 on a FAIL."""
    from photoflow_local.smoke import SmokeSettings, run_smoke

    if not token and not iam:
        raise typer.BadParameter("give --token (ApiAuth COGNITO) or --iam (ApiAuth AWS_IAM)")
    client = _client(api, token, iam, region)
    settings = SmokeSettings(topic, region, endpoint_url, timeout)
    raise typer.Exit(run_smoke(client, settings, console))


# ---------------------------------------------------------------- robustness
@app.command()
def soak(
    photos: Annotated[int, typer.Option(metavar="N", help="how many photos to upload")] = 300,
    fault_rate: Annotated[
        float, typer.Option(metavar="SHARE", help="chance that a step or consumer fails")
    ] = 0.1,
    corrupt_share: Annotated[
        float, typer.Option(metavar="SHARE", help="share of corrupt photos")
    ] = 0.05,
    timeout: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", help="how long to wait for every outcome (2 s a photo)"),
    ] = None,
    seed: Annotated[int, typer.Option(metavar="N", help="random seed")] = 7,
    hostile: Annotated[
        bool, typer.Option(help="clients of every kind, not only good ones")
    ] = False,
    crash: Annotated[bool, typer.Option(help="kill sandboxes and the ingest poller")] = False,
    workflow_type: Annotated[
        WorkflowType, typer.Option(help="the template's WorkflowType for the run")
    ] = WorkflowType.STANDARD,
    template: TemplateOption = Path("template.yaml"),
) -> None:
    """Many photos with faults injected; exit 1 unless nothing was lost, announced twice,
    changed after it was terminal or reset."""
    from photoflow_local.soak import SoakSettings, print_report, run_soak

    started_at = time.monotonic()
    settings = SoakSettings(
        photos,
        fault_rate,
        corrupt_share,
        timeout,
        seed,
        hostile,
        crash,
        progress=lambda line: console.print(f"[dim]{escape(line)}[/]"),
        workflow_type=workflow_type.value,
    )
    report = run_soak(template, settings)
    raise typer.Exit(print_report(report, time.monotonic() - started_at, console))


# ---------------------------------------------------------------- operations
@app.command()
def redrive(
    photo: PhotoArgument,
    wait: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long to wait for its end (0: no wait)")
    ] = 60.0,
    endpoint_url: EndpointOption = None,
) -> None:
    """Retry a failed photo: its execution resumes at the state that failed, nothing that
    succeeded runs again or is announced again. Exit 1 when refused or failed again."""
    from photoflow_local import operations

    state = running.saved()  # the photos' table is the local stack's
    endpoint = endpoint_url or state["endpointUrl"]
    table = state["outputs"]["PhotosTableName"]
    sfn, dynamodb = (operations.client(s, endpoint) for s in ("stepfunctions", "dynamodb"))
    target = photo if is_photo_id(photo.strip()) else find_execution(sfn, photo)
    try:
        done = operations.redrive_photo(sfn, dynamodb, table, target.strip(), wait)
    except operations.NoSuchPhoto as missing:
        raise Failure(str(missing), LIST_HINT, ExitCode.NOT_FOUND) from None
    except operations.NotRedrivable as refused:
        raise Failure(f"not redriven: {refused}") from None
    console.print(
        f"{done.photo_id}: {done.execution_arn} (it had failed: {done.error}) {done.status}",
        soft_wrap=True,
    )
    raise typer.Exit(0 if done.status in ("SUCCEEDED", "RUNNING") else 1)


@app.command("redrive-dead-letters")
def redrive_dead_letters(
    queue_url: Annotated[
        str | None,
        typer.Argument(metavar="QUEUE_URL", help="dead-letter queue (default: the ingest one)"),
    ] = None,
    wait: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long to wait for the move task")
    ] = 60.0,
    endpoint_url: EndpointOption = None,
) -> None:
    """Send a dead-letter queue's messages back to the queue each came from (SQS message
    move task). Exit 1 unless the task COMPLETED."""
    from photoflow_local import operations

    state = running.saved() if endpoint_url is None or queue_url is None else {}
    endpoint = endpoint_url or state["endpointUrl"]
    queue = queue_url or state["outputs"]["IngestDeadLetterQueueUrl"]
    outcome = operations.redrive_dead_letters(operations.client("sqs", endpoint), queue, None, wait)
    console.print(f"{outcome.status}: {outcome.moved} of {outcome.to_move} messages moved back")
    raise typer.Exit(0 if outcome.status == "COMPLETED" else 1)


reprocess_app = _Typer(
    cls=_Group,
    help="Make stored photos again with the configuration deployed now (a Distributed Map).",
)
app.add_typer(reprocess_app, name="reprocess")


def _reprocess_clients(endpoint_url: str | None) -> tuple[Any, Any, Any, dict[str, Any]]:
    from photoflow_local import operations

    state = running.saved()
    endpoint = endpoint_url or state["endpointUrl"]
    outputs = state["outputs"]
    if "ReprocessWorkflowArn" not in outputs:
        raise Failure(
            "the local stack running here has no ReprocessWorkflow (its template has none)"
        )
    sfn, s3, dynamodb = (
        operations.client(s, endpoint) for s in ("stepfunctions", "s3", "dynamodb")
    )
    return sfn, s3, dynamodb, outputs


@reprocess_app.callback(invoke_without_command=True)
def reprocess(
    ctx: typer.Context,
    prefix: Annotated[
        str, typer.Option(metavar="P", help="only photos whose id starts with P (a sample)")
    ] = "",
    before_version: Annotated[
        int | None,
        typer.Option(metavar="V", help="only photos made by a ConfigVersion older than V"),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="only the photo ids in FILE (one a line, or a CSV)"),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the run to its end")] = False,
    batch_size: Annotated[int, typer.Option(metavar="N", help="photos per child execution")] = 10,
    max_concurrency: Annotated[
        int, typer.Option(metavar="N", help="child executions at once")
    ] = 100,
    tolerated_failure_percentage: Annotated[
        float, typer.Option(metavar="PCT", help="failed photos the run tolerates, in percent")
    ] = 5.0,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long --wait waits")
    ] = 3600.0,
    endpoint_url: EndpointOption = None,
) -> None:
    """Make the selected photos again (every completed one by default): their derivatives,
    metadata and record, announced as PhotoReprocessed. Exit 1 if the run failed."""
    if ctx.invoked_subcommand is not None:
        return
    from photoflow.photos import PhotoRepository
    from photoflow_local import reprocessing

    if sum(x is not None and x != "" for x in (prefix, before_version, manifest)) > 1:
        raise typer.BadParameter("give at most one of --prefix, --before-version, --manifest")
    sfn, s3, dynamodb, outputs = _reprocess_clients(endpoint_url)
    try:
        ids = reprocessing.read_manifest(manifest.read_text()) if manifest else None
        selection = reprocessing.Selection(prefix, before_version, ids)
        photos = PhotoRepository(outputs["PhotosTableName"], dynamodb)
        selected = reprocessing.select(photos, selection)
        run = reprocessing.start(
            sfn,
            s3,
            outputs["ReprocessWorkflowArn"],
            outputs["PhotosBucketName"],
            selected,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            tolerated_failure_percentage=tolerated_failure_percentage,
        )
    except reprocessing.ReprocessError as refused:
        raise Failure(str(refused)) from None
    console.print(
        f"reprocessing {run.photos} photos ({selection.describe()}): {run.execution_arn}",
        soft_wrap=True,
    )
    if not wait:
        console.print("follow it with: photoflow reprocess status", soft_wrap=True)
        return
    raise typer.Exit(_follow_run(sfn, s3, run.execution_arn, outputs["PhotosBucketName"], timeout))


@reprocess_app.command("status")
def reprocess_status(
    run: Annotated[
        str | None,
        typer.Argument(metavar="RUN", help="the run's execution ARN (default: the latest run)"),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the run to its end")] = False,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long --wait waits")
    ] = 3600.0,
    endpoint_url: EndpointOption = None,
) -> None:
    """How far a run has got (photos done, failed, pending) and, once it ended, what it did
    to each photo. Exit 1 if the run failed."""
    sfn, s3, _, outputs = _reprocess_clients(endpoint_url)
    run = run or _latest_run(sfn, outputs["ReprocessWorkflowArn"])
    if wait:
        raise typer.Exit(_follow_run(sfn, s3, run, outputs["PhotosBucketName"], timeout))
    raise typer.Exit(_print_run(sfn, s3, run, outputs["PhotosBucketName"]))


def _latest_run(sfn: Any, state_machine_arn: str) -> str:
    runs = sfn.list_executions(stateMachineArn=state_machine_arn, maxResults=1)["executions"]
    if not runs:
        raise Failure("no reprocessing run yet", "start one: photoflow reprocess")
    return str(runs[0]["executionArn"])


def _follow_run(sfn: Any, s3: Any, execution_arn: str, bucket: str, timeout: float) -> int:
    """A progress bar over the run's photos until it ends (or ``timeout``), then its report."""
    from photoflow_local import reprocessing

    deadline = time.monotonic() + timeout
    with Progress(
        TextColumn("[bold]reprocessing"),
        BarColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=not console.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=None)
        while True:
            now = reprocessing.progress(sfn, execution_arn, bucket)
            bar.update(
                task,
                total=now.total or None,
                completed=now.finished_items,
                description=_counts(now),
            )
            if now.done or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # a bounded poll: the deadline ends it
    return _print_run(sfn, s3, execution_arn, bucket)


def _counts(now: Any) -> str:
    stopped = f", {now.aborted} stopped" if now.aborted else ""
    return (
        f"{now.succeeded} done, {now.failed} failed{stopped}, {now.pending + now.running} pending"
    )


def _print_run(sfn: Any, s3: Any, execution_arn: str, bucket: str) -> int:
    from photoflow_local import reprocessing

    now = reprocessing.progress(sfn, execution_arn, bucket)
    console.print(f"{execution_arn}: {now.status}", soft_wrap=True)
    console.print(f"photos: {now.total} in all, {_counts(now)}")
    if now.error:
        console.print(f"[red]{escape(now.error)}[/]: {escape(now.cause or '')}", soft_wrap=True)
    if now.results is not None:
        done = reprocessing.outcomes(s3, *now.results)
        console.print(
            ", ".join(f"{n} {outcome}" for outcome, n in sorted(done.photos.items())) or "none",
            soft_wrap=True,
        )
        for photo in done.failed:
            console.print(
                f"  {photo.photo_id}: {escape(photo.error)}: {escape(photo.message)}",
                soft_wrap=True,
            )
        for error, cause in done.failed_batches:
            console.print(f"  a batch failed: {escape(error)}: {escape(cause)}", soft_wrap=True)
        console.print(f"results: s3://{now.results[0]}/{now.results[1]}", soft_wrap=True)
    if now.status == "FAILED":
        console.print("redrive it (failed batches run again): photoflow reprocess redrive")
    return 0 if now.status in ("SUCCEEDED", "RUNNING") else 1


@reprocess_app.command("redrive")
def reprocess_redrive(
    run: Annotated[
        str | None,
        typer.Argument(metavar="RUN", help="the run's execution ARN (default: the latest run)"),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the run to its end")] = False,
    timeout: Annotated[
        float, typer.Option(metavar="SECONDS", help="how long --wait waits")
    ] = 3600.0,
    endpoint_url: EndpointOption = None,
) -> None:
    """Run a failed run's unfinished batches again (RedriveExecution): photos it made are
    passed over, the others are made. Exit 1 if the run fails again."""
    sfn, s3, _, outputs = _reprocess_clients(endpoint_url)
    run = run or _latest_run(sfn, outputs["ReprocessWorkflowArn"])
    try:
        sfn.redrive_execution(executionArn=run)
    except ClientError as error:
        raise _aws_refusal(error) from error
    console.print(f"redriven: {run}", soft_wrap=True)
    if wait:
        raise typer.Exit(_follow_run(sfn, s3, run, outputs["PhotosBucketName"], timeout))


users_app = _Typer(cls=_Group, help="Users of the local stack's user pool: who may sign in.")
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the user name to sign in with")],
    password: Annotated[
        str | None,
        typer.Option(metavar="PASSWORD", help="(default: a new random one, shown once)"),
    ] = None,
) -> None:
    """Create a user of the local stack's pool (or set an existing one's password)."""
    from photoflow_local.identity import add_user, new_password

    state = running.saved()
    pool_id = state["outputs"].get("UserPoolId")
    if not pool_id:
        raise Failure("the local stack running here has no user pool (its template has none)")
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=state["endpointUrl"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    password = password or new_password()
    try:
        sub = add_user(cognito, pool_id, name, password)
    except ClientError as error:
        raise _aws_refusal(error) from error
    console.print(f"user {name} (sub {sub}) added; password: {password}", soft_wrap=True)
    if state.get("apiUrl"):
        console.print(f"sign in on the page at {state['apiUrl']}/", soft_wrap=True)


mocks_app = _Typer(
    cls=_Group, help="MockConfigFiles (Step Functions Local format) for the state machine."
)
app.add_typer(mocks_app, name="mocks")


@mocks_app.command("generate")
def mocks_generate(
    output: Annotated[
        Path, typer.Option(metavar="FILE", help="where to write the MockConfigFile")
    ] = Path("MockConfigFile.json"),
    template: TemplateOption = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(metavar="ID", help="logical id of the state machine")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="state machine name in the file (default: the logical id)"
        ),
    ] = None,
    results_from: Annotated[
        Path | None,
        typer.Option(
            metavar="HISTORY", exists=True, help="a recorded history whose Task results to reuse"
        ),
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
    mock_file: Annotated[
        Path,
        typer.Argument(metavar="FILE", exists=True, dir_okay=False, help="a MockConfigFile"),
    ],
    template: TemplateOption = Path("template.yaml"),
    state_machine: Annotated[
        str | None, typer.Option(metavar="ID", help="logical id of the state machine")
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="other names of the state machine (repeatable)"),
    ] = None,
) -> None:
    """Validate a MockConfigFile against the state machine; exit 1 with every problem found."""
    from photoflow_local import mocks

    logical_id, definition = mocks.load_definition(template, state_machine)
    try:
        config = json.loads(mock_file.read_text(encoding="utf-8"))
    except ValueError as error:
        console.print(f"[red]{mock_file}: not JSON: {escape(str(error))}[/]")
        raise typer.Exit(1) from None
    problems = mocks.check(config, definition, {logical_id, *(name or [])})
    for problem in problems:
        console.print(f"[red]{mock_file}: {escape(problem)}[/]")
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
