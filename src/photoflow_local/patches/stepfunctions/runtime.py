"""How the interpreter runs (patches 4, 9, 10): scaled time, one client per service,
definitions parsed once. None of these changes what an execution does."""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from typing import Any

import boto3
from botocore.config import Config
from moto.core.botocore_stubber import BotocoreStubber
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from photoflow_local.patches.base import patch_module_function, replace, state


# ----------------------------------------------------------------- 4. time scale
class _ScaledTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds * state.time_scale)


def _wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
    # moto's own loop rounds to whole seconds and would spin on fractions.
    if wait_seconds > 0:
        env.program_state_event.wait(wait_seconds * state.time_scale)


# ----------------------------------------------------------------- 9. one client per service
class _InProcess(BotocoreStubber):
    """moto's in-process dispatcher, always on, for the interpreter's own clients."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        if boto_client.botocore_stubber.enabled:  # under mock_aws, moto's own answers
            return None
        response = super().__call__(event_name, request, **kwargs)
        if response is None:  # never out to the network
            raise RuntimeError(f"no local service answers {request.method} {request.url}")
        return response


_in_process = _InProcess()
_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def new_client(region: str, service: str) -> Any:
    """A client as moto's boto_client_for builds it, calling the services in-process."""
    client = boto3.client(
        service,
        region_name=region,
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            ignore_configured_endpoint_urls=True,  # AWS_ENDPOINT_URL is for the functions
        ),
    )
    client.meta.events.register("before-send", _in_process)
    return client


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's boto_client_for, creating each (region, service) client once.

    moto passes the state's credentials (the execution role) but signs every call
    with fixed local keys whatever they are, so one client serves every role.
    """
    with _clients_lock:
        client = _clients.get((region, service))
        if client is None:
            client = _clients[(region, service)] = new_client(region, service)
        return client


# ----------------------------------------------------------------- 10. parse once
PARSED_DEFINITIONS_KEPT = 32  # the most recently used; replays may create many machines
_programs: OrderedDict[str, EvalComponent] = OrderedDict()
_programs_lock = threading.Lock()


def _get_evaluation_entrypoint(self: ExecutionWorker) -> EvalComponent:
    definition = self._evaluation_details.state_machine_details.definition
    with _programs_lock:
        program = _programs.get(definition)
        if program is not None:
            _programs.move_to_end(definition)
        else:
            program = state.originals["_get_evaluation_entrypoint"](self)
            for component in components(program):
                if isinstance(component, EvalComponent):
                    component.heap_key  # noqa: B018 - drawn lazily; racing executions would differ
            _programs[definition] = program
            while len(_programs) > PARSED_DEFINITIONS_KEPT:
                _programs.popitem(last=False)
        return program


def components(root: Component) -> list[Component]:
    """Every component of a parsed definition, ``root`` first."""
    found: dict[int, Component] = {}
    pending: list[Any] = [root]
    while pending:
        value = pending.pop()
        if isinstance(value, Component):
            if id(value) in found:
                continue
            found[id(value)] = value
            pending.extend(vars(value).values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return list(found.values())


# ----------------------------------------------------------------- 43. parser scopes
def _scopes(self: Preprocessor) -> list[Any]:
    """This parse's own stack of query-language scopes."""
    scopes: list[Any] = self.__dict__.setdefault("_photoflow_query_language_scopes", [])
    return scopes


def install() -> None:
    # moto's is one list on the class, shared by every parse, in every thread.
    replace(
        Preprocessor,
        "_query_language_per_scope",
        property(_scopes),
        "preprocessor_query_language_per_scope",
    )
    replace(retrier_decl, "time", _ScaledTime(), "retrier_time")
    replace(WaitFunction, "_wait_interval", _wait_interval)
    state.originals["boto_client_for"] = boto_client.boto_client_for
    patch_module_function("boto_client_for", boto_client_for)
    replace(ExecutionWorker, "_get_evaluation_entrypoint", _get_evaluation_entrypoint)
    for module, key in ((json_path, "json_path_parse"), (result_path, "result_path_parse")):
        replace(module, "parse", functools.lru_cache(maxsize=4096)(module.parse), key)
