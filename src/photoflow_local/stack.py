"""The local stack: one local AWS, the template deployed into it, functions, pollers and API.

    with LocalStack(Path("template.yaml")) as stack:
        stack.api_url, stack.endpoint_url, stack.output("PhotosBucketName")

Everything runs in this process: moto's server on 127.0.0.1 (so other
processes, a browser or the AWS CLI reach the same local AWS), its executing
Step Functions interpreter, and the Lambda handlers from ``functions/``.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import boto3
from botocore.config import Config
from moto.core.config import default_user_config
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from photoflow_local import patches
from photoflow_local.api import LocalApi
from photoflow_local.deploy import ACCOUNT_ID, DeployedStack, LocalDeployer
from photoflow_local.deploy.update import StackUpdate
from photoflow_local.identity import LocalUserPool
from photoflow_local.lambdas import LambdaService
from photoflow_local.poller import SqsPoller
from photoflow_local.schedules import Scheduler, scheduled_rules
from photoflow_local.shape import STATE_MACHINE, main_state_machine
from photoflow_local.template import TemplateError, check_parameters, load_sam, translate

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


class PortTaken(Exception):
    """A port the local stack was asked to use is taken by another program."""

    def __init__(self, port: int, option: str) -> None:
        super().__init__(f"port {port} is taken by another program")
        self.port = port
        self.option = option


def reserve_port(host: str = "127.0.0.1", port: int = 0, option: str = "port") -> socket.socket:
    """A socket bound to ``port`` (0: any free one) and kept bound, so that no other process
    (nor an outgoing connection) takes the port before the server that needs it is ready to
    bind it; close it just before that. A taken port raises PortTaken at once."""
    reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        reservation.bind((host, port))
    except OSError as error:
        reservation.close()
        if error.errno == errno.EADDRINUSE:
            raise PortTaken(port, option) from None
        raise
    return reservation


class AwsEndpoint:
    """moto's server on a socket already bound. moto's ThreadedMotoServer binds in its
    thread and waits for it: a port taken meanwhile ends that thread and leaves the caller
    waiting forever (a second `photoflow up` hung so)."""

    def __init__(self, reservation: socket.socket) -> None:
        reservation.listen(128)
        host, port = reservation.getsockname()[:2]
        self.server: BaseWSGIServer = make_server(
            host,
            port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
            fd=reservation.fileno(),
        )
        reservation.close()  # the server serves a duplicate of it
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="local-aws", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join()
        self.server.server_close()


@dataclass
class StackOptions:
    region: str = "us-east-1"
    aws_port: int = 0  # 0: any free port
    api_port: int = 0
    time_scale: float = 1.0
    retry_after_seconds: int = 1
    parameters: dict[str, str] | None = None
    static_dir: Path | None = None
    mock_config: Path | None = None


class LocalStack:
    def __init__(
        self,
        template_path: Path,
        options: StackOptions | None = None,
        log_sink: TextIO | None = None,
        debug_log_sink: TextIO | None = None,
    ) -> None:
        """``log_sink`` receives what the functions log (and the local Lambda service's own
        lines about them, as Lambda writes them to a function's log); ``debug_log_sink``
        the local engine's internals (moto's interpreter), kept out of the functions' log."""
        self.template_path = template_path
        self.options = options or StackOptions()
        self.log_sink = log_sink
        self.debug_log_sink = debug_log_sink
        self.server: AwsEndpoint | None = None
        self._lambdas: LambdaService | None = None
        self.pollers: list[SqsPoller] = []
        self.scheduler: Scheduler | None = None
        self.apis: dict[str, LocalApi] = {}
        self.user_pool: LocalUserPool | None = None
        self.deployed: DeployedStack | None = None
        self._deployer: LocalDeployer | None = None
        self._update_lock = threading.Lock()
        self._saved_environment: dict[str, str] | None = None
        self._reservations: list[socket.socket] = []

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        options = self.options
        # Both ports first: a taken one is refused before anything else starts. Each is
        # held until its server binds it (deploying takes seconds).
        aws_reservation = reserve_port(port=options.aws_port, option="--aws-port")
        self._reservations.append(aws_reservation)
        api_reservation = reserve_port(port=options.api_port, option="--api-port")
        self._reservations.append(api_reservation)
        port = aws_reservation.getsockname()[1]
        api_port = api_reservation.getsockname()[1]
        self.endpoint_url = f"http://127.0.0.1:{port}"
        environment = {
            **LOCAL_CREDENTIALS,
            "AWS_DEFAULT_REGION": options.region,
            "AWS_REGION": options.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            # TestState's endpoint has the host prefix "sync-": clients would call
            # sync-127.0.0.1. The one local endpoint serves it without one.
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            # moto's own calls back into its server (custom resources) go to MOTO_PORT.
            "MOTO_PORT": str(port),
            # No X-Ray daemon runs locally.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        if options.mock_config is not None:
            environment[patches.MOCK_CONFIG_ENV] = str(options.mock_config.resolve())
        self._saved_environment = dict(os.environ)
        os.environ.update(environment)
        default_user_config["stepfunctions"] = {"execute_state_machine": True}

        self._lambdas = LambdaService(environment, log_sink=self.log_sink)
        patches.apply(self.lambdas, time_scale=options.time_scale)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # The interpreter logs each caught error with its parse tree: engine internals, for
        # the debug log only (the functions log their own errors).
        interpreter_log = logging.getLogger("moto.stepfunctions.parser")
        interpreter_log.propagate = False
        for handler in list(interpreter_log.handlers):
            interpreter_log.removeHandler(handler)
        interpreter_log.addHandler(
            logging.StreamHandler(self.debug_log_sink)
            if self.debug_log_sink is not None
            else logging.NullHandler()
        )
        self.server = AwsEndpoint(aws_reservation)
        self.server.start()

        # The local API serves the page too, so the page's origin is the API's own.
        parameters = {"AllowedOrigin": f"http://127.0.0.1:{api_port}", **(options.parameters or {})}
        template = translate(self.template_path, parameters, region=options.region)
        parameters = {k: v for k, v in parameters.items() if k in template.parameters}
        self._deployer = LocalDeployer(self.endpoint_url, region=options.region)
        self.deployed = self._deployer.deploy(template, parameters)
        if self.deployed.of_type(STATE_MACHINE):
            self.deployed.main_state_machine = main_state_machine(template.resources)
        for function in self.deployed.functions.values():
            self.lambdas.register(function)
        self.lambdas.warm()

        sqs = self.client("sqs")
        for mapping in self.deployed.event_source_mappings:
            poller = SqsPoller(
                mapping,
                self.lambdas,
                sqs,
                region=options.region,
                retry_after_seconds=options.retry_after_seconds,
            )
            poller.start()
            self.pollers.append(poller)
        rules, unscheduled = scheduled_rules(self.client("events"))
        self.deployed.not_emulated.update(unscheduled)
        self.scheduler = Scheduler(
            rules,
            self.lambdas,
            region=options.region,
            account=ACCOUNT_ID,
            time_scale=options.time_scale,
        )
        self.scheduler.start()
        api_reservation.close()
        pools = self.deployed.of_type("AWS::Cognito::UserPool")
        if pools:  # the template's one pool: the local API's Cognito authorizer and sign-in
            self.user_pool = LocalUserPool.of_stack(
                self.client("cognito-idp"), next(iter(pools.values())), options.region
            )
        for logical_id, api in self.deployed.apis.items():
            front_end = LocalApi(
                api,
                self.lambdas,
                port=api_port,
                static_dir=options.static_dir,
                user_pool=self.user_pool,
            )
            front_end.start()
            self.apis[logical_id] = front_end
        return self

    def update(self, template_path: Path, overrides: dict[str, str]) -> StackUpdate:
        """`sam deploy` of the running stack: ``template_path`` with ``overrides``, as
        CloudFormation updates a stack in place, keeping its data. As `sam deploy` does, a
        parameter not given keeps the stack's value (UsePreviousValue; a changed Default
        takes effect only when given); one new in the template takes its Default (the SAM
        CLI's deploy: ``merge_parameters`` sends UsePreviousValue for every parameter not
        overridden, ``create_changeset`` drops it for a parameter the stack lacks). Applied
        only when nothing needs the stack created anew (``StackUpdate.restart`` empty)."""
        if self._deployer is None:
            raise RuntimeError("the local stack is not started")
        sam = load_sam(template_path)
        check_parameters(sam, template_path, overrides)
        declared = sam.get("Parameters", {})
        previous = {k: str(v) for k, v in self.stack.parameters.items() if k in declared}
        values = {**previous, **overrides}
        with self._update_lock:
            template = translate(template_path, values, self.options.region, sam)
            parameters = {
                name: values.get(name, spec.get("Default"))
                for name, spec in template.parameters.items()
            }
            missing = sorted(name for name, value in parameters.items() if value is None)
            if missing:
                raise TemplateError(f"parameters without a value: {', '.join(missing)}")
            update = self._deployer.update(template, parameters)
            if not update.restart:
                update.apply()
                self.template_path = template_path
        return update

    def stop(self) -> None:
        for reservation in self._reservations:
            reservation.close()
        if self.scheduler is not None:
            self.scheduler.stop()
        for poller in self.pollers:
            poller.stop()
        if self._lambdas is not None:
            self._lambdas.stop()
        for api in self.apis.values():
            api.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._saved_environment is not None:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            self._saved_environment = None

    def __enter__(self) -> LocalStack:
        try:
            return self.start()
        except BaseException:  # Ctrl-C while starting too: no sandbox or server left behind
            self.stop()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ access
    @property
    def lambdas(self) -> LambdaService:
        if self._lambdas is None:
            raise RuntimeError("the local stack is not started")
        return self._lambdas

    @property
    def stack(self) -> DeployedStack:
        if self.deployed is None:
            raise RuntimeError("the local stack is not started")
        return self.deployed

    @property
    def api_url(self) -> str:
        if not self.apis:
            raise RuntimeError("the template defines no REST API")
        return next(iter(self.apis.values())).url

    def output(self, name: str) -> Any:
        return self.stack.outputs[name]

    def photo_item(self, photo_id: str) -> dict[str, Any] | None:
        """A photo's item in the photos table, as DynamoDB returns it (None if there is none)."""
        item: dict[str, Any] | None = (
            self.client("dynamodb")
            .get_item(TableName=self.output("PhotosTableName"), Key={"photoId": {"S": photo_id}})
            .get("Item")
        )
        return item

    def sign_in(self, username: str, password: str) -> str:
        """An ID token of a user of the local pool, as the page gets one by signing in."""
        if self.user_pool is None:
            raise RuntimeError("the template defines no user pool")
        pool = self.user_pool
        return pool.sign_in(username, password, pool.client_ids[0]).id_token

    def physical_id(self, logical_id: str) -> str:
        return self.stack.physical_ids[logical_id]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.options.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            # Reads can race the interpreter's late writes (a cancelled branch finishing after
            # its execution ended) and get a 500; retry those, as any AWS client would.
            config=Config(retries={"mode": "standard", "max_attempts": 8}),
        )
