"""The local stack: one local AWS, the template deployed into it, functions, pollers and API.

    with LocalStack(Path("template.yaml")) as stack:
        stack.api_url, stack.endpoint_url, stack.output("PhotosBucketName")

Everything runs in this process: moto's server on 127.0.0.1 (so other
processes, a browser or the AWS CLI reach the same local AWS), its executing
Step Functions interpreter, and the Lambda handlers from ``functions/``.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import boto3
from botocore.config import Config
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from photoflow_local import patches
from photoflow_local.api import LocalApi
from photoflow_local.deploy import ACCOUNT_ID, DeployedStack, LocalDeployer
from photoflow_local.lambdas import LambdaService
from photoflow_local.poller import SqsPoller
from photoflow_local.schedules import Scheduler, scheduled_rules
from photoflow_local.template import translate

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to a free port and kept bound, so that no other process (nor an
    outgoing connection) takes the port before the server that needs it is ready to bind
    it; close it just before that."""
    reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    reservation.bind((host, 0))
    return reservation


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
        self.server: ThreadedMotoServer | None = None
        self.pollers: list[SqsPoller] = []
        self.scheduler: Scheduler | None = None
        self.apis: dict[str, LocalApi] = {}
        self.deployed: DeployedStack | None = None
        self._saved_environment: dict[str, str] = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        options = self.options
        port = options.aws_port or free_port()
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

        self.lambdas = LambdaService(environment, log_sink=self.log_sink)
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
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.server.start()

        # The local API serves the page too, so the page's origin is the API's own.
        # Deploying takes seconds: the port is held until the API binds it.
        reservation: socket.socket | None = None
        if options.api_port:
            api_port = options.api_port
        else:
            reservation = reserve_port()
            api_port = reservation.getsockname()[1]
        parameters = {"AllowedOrigin": f"http://127.0.0.1:{api_port}", **(options.parameters or {})}
        template = translate(self.template_path, parameters, region=options.region)
        parameters = {k: v for k, v in parameters.items() if k in template.parameters}
        deployer = LocalDeployer(self.endpoint_url, region=options.region)
        self.deployed = deployer.deploy(template, parameters)
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
        if reservation is not None:
            reservation.close()
        for logical_id, api in self.deployed.apis.items():
            front_end = LocalApi(api, self.lambdas, port=api_port, static_dir=options.static_dir)
            front_end.start()
            self.apis[logical_id] = front_end
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for poller in self.pollers:
            poller.stop()
        if self.deployed is not None:
            self.lambdas.stop()
        for api in self.apis.values():
            api.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None
        os.environ.clear()
        os.environ.update(self._saved_environment)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ access
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
