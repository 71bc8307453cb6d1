"""Distributed Map as AWS runs it (patches 61-65).

moto 5.2.5 has a Distributed Map (ItemReader, a map run record, DescribeMapRun), but its
grammar refuses what AWS accepts: there is no ``ItemBatcher``, an integer
``ToleratedFailurePercentage`` is "no viable alternative", ``ExecutionType`` may only be
STANDARD, and a ``ResultWriter`` takes only ``Parameters`` (no JSONata ``Arguments``, no
``WriterConfig``). Its map run ignores the tolerated failures (a failed child is a ``null``
result and the Map succeeds), and its ResultWriter writes an empty manifest only.

What AWS does instead, and where it is recorded:
- Developer Guide, "ItemBatcher (Map)": each child gets ``{"Items": [...], "BatchInput":
  {...}}``; ``MaxItemsPerBatch``/``MaxInputBytesPerBatch`` (or their ``...Path``) bound a batch.
- Developer Guide, "Tolerated failure threshold for Distributed Map state": the Map Run fails
  with ``States.ExceedToleratedFailureThreshold`` when the failed (or timed out) items exceed
  the count or the percentage of all items (either, when both are given; no failure at all
  when neither is). The cause is AWS's "The specified tolerated failure threshold was
  exceeded" (LocalStack's recordings: test_state/test_state_configuration.snapshot.json).
  A failed map run records MapRunFailed (error, cause), MapStateFailed, then the execution's
  or a Catcher's answer (recorded: scenarios/test_base_scenarios.snapshot.json,
  ``test_map_item_reader_csv_headers_decl_duplicate_headers``).
- Developer Guide, "ResultWriter (Map)": ``<Prefix>/<map run id>/manifest.json`` with
  ``DestinationBucket``, ``MapRunArn``, ``ResultFiles`` {FAILED, PENDING, SUCCEEDED: [{Key,
  Size}]}, and ``SUCCEEDED_0.json``/``FAILED_0.json``/``PENDING_0.json``, each a list of child
  executions (ExecutionArn, Input, InputDetails, Name, Output, OutputDetails, RedriveCount,
  RedriveStatus, RedriveStatusReason, StartDate, StateMachineArn, Status, StopDate; a failed one
  Error and Cause and no Output nor RedriveStatusReason, RedriveStatus REDRIVABLE_BY_MAP_RUN).
  Fields as in result files published from real runs. The Map state's result is ``{MapRunArn,
  ResultWriterDetails: {Bucket, Key}}`` (recorded: ``test_map_state_result_writer``);
  WriterConfig's Transformation (NONE, COMPACT, FLATTEN) and OutputType (JSON, JSONL). Without
  a ResultWriter the result is COMPACT, where a failed child "is returned unchanged", as NONE.
- API reference, DescribeMapRun, ListMapRuns, UpdateMapRun, ListExecutions (``mapRunArn``):
  counts of items and of child executions, ``redriveCount``, ``failuresNotRedrivable`` and
  ``pendingRedrive`` (recorded: test_sfn_api_map_run.snapshot.json).
- Developer Guide, "Redriving Map Runs": a redriven parent redrives its Map Run's unsuccessful
  children (a Standard child is redriven, an Express one started again), 1000 redrives at most.
"""

from __future__ import annotations

import copy
import datetime
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.stepfunctions.parser.api import (
    HistoryEventType,
    MapRunFailedEventDetails,
    MapRunStatus,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    distributed_iteration_component as distributed,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    map_run_record as map_run_record_module,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
    ToleratedFailureCountStringJSONata,
    ToleratedFailurePercentageStringJSONata,
)
from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.program_state import (
    ProgramError,
    ProgramStopped,
    ProgramTimedOut,
)
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from photoflow_local.patches.base import replace, state
from photoflow_local.patches.stepfunctions import redrive
from photoflow_local.patches.stepfunctions.interpreter import aws_time
from photoflow_local.patches.stepfunctions.runtime import boto_client_for, components

DistributedIterationComponent = distributed.DistributedIterationComponent
MapRunRecord = map_run_record_module.MapRunRecord

# A parsed Map state's extras (what the grammar was not shown), by marker in its Comment.
_MARKER = "photoflow-distributed-map:"
_EXTRAS = "_photoflow_distributed"  # on a StateMap and on its iteration component
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"
# "ItemBatcher (Map)": a batch is at most 256 KiB, whatever MaxInputBytesPerBatch says.
MAX_BATCH_BYTES = 256 * 1024
MAP_RUNS_KEPT = 256  # the most recent, for DescribeMapRun of children and ListExecutions


# ----------------------------------------------------------------- 61. the definition
@dataclass
class Template:
    """A value of the definition evaluated against the Map state's input: a JSONata template
    (``{% %}`` strings) or a JSONPath payload template (``.$`` keys), with moto's own parts."""

    component: EvalComponent
    jsonpath_key: str | None  # the key a JSONPath value was wrapped under

    def value(self, env: Environment) -> Any:
        self.component.eval(env=env)
        value = env.stack.pop()
        return value[self.jsonpath_key] if self.jsonpath_key is not None else value


@dataclass
class Extras:
    """What a Map state says that moto's grammar does not take."""

    batcher: dict[str, Template] = field(default_factory=dict)
    writer: dict[str, Any] | None = None  # Resource, Arguments (Template), WriterConfig
    execution_type: str = "STANDARD"
    tolerance_given: tuple[bool, bool] = (False, False)  # (count, percentage)


def compile_template(value: Any, jsonata: bool, path_value: bool = False) -> Template:
    """``value`` as moto evaluates it in a Pass state of the same query language: a JSONata
    Output, or JSONPath Parameters (a path value is wrapped as ``{"value.$": path}``)."""
    pass_state_body: dict[str, Any] = {"Type": "Pass", "End": True}
    machine: dict[str, Any] = {"StartAt": "S", "States": {"S": pass_state_body}}
    if jsonata:
        machine["QueryLanguage"] = "JSONata"
        pass_state_body["Output"] = value
    else:
        pass_state_body["Parameters"] = {"value.$": value} if path_value else {"value": value}
    program = state.originals["asl_parse"](json.dumps(machine))[0]
    pass_state = next(c for c in components(program) if isinstance(c, StatePass))
    if jsonata:
        assert pass_state.output is not None
        return Template(pass_state.output.jsonata_template_value, None)
    assert pass_state.parameters is not None
    return Template(pass_state.parameters, "value")


_BATCHER_FIELDS = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")


def _batcher(batcher: dict[str, Any], jsonata: bool) -> dict[str, Template]:
    compiled: dict[str, Template] = {}
    for name in _BATCHER_FIELDS:
        if name in batcher:
            compiled[name] = compile_template(batcher[name], jsonata)
        elif f"{name}Path" in batcher:
            compiled[name] = compile_template(batcher[f"{name}Path"], False, path_value=True)
    if "BatchInput" in batcher:
        compiled["BatchInput"] = compile_template(batcher["BatchInput"], jsonata)
    return compiled


def _writer(writer: dict[str, Any], jsonata: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"WriterConfig": writer.get("WriterConfig") or {}}
    arguments = writer.get("Arguments", writer.get("Parameters"))
    if "Resource" in writer and arguments is not None:
        found["Resource"] = writer["Resource"]
        found["Arguments"] = compile_template(arguments, jsonata)
    return found


def _strip_map(body: dict[str, Any], jsonata: bool) -> Extras:
    """Take out of a Map state what moto's grammar refuses; what it meant, kept."""
    extras = Extras()
    extras.tolerance_given = (
        any(key.startswith("ToleratedFailureCount") for key in body),
        any(key.startswith("ToleratedFailurePercentage") for key in body),
    )
    if isinstance(body.get("ToleratedFailurePercentage"), int):
        body["ToleratedFailurePercentage"] = float(body["ToleratedFailurePercentage"])
    batcher = body.pop("ItemBatcher", None)
    if isinstance(batcher, dict):
        extras.batcher = _batcher(batcher, jsonata)
    processor = body.get("ItemProcessor")
    config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
    if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
        config["ExecutionType"] = "STANDARD"
        extras.execution_type = "EXPRESS"
    writer = body.pop("ResultWriter", None)
    if isinstance(writer, dict):
        extras.writer = _writer(writer, jsonata)
    return extras


def _strip(machine: Any, language: str, found: list[tuple[Extras, Any]]) -> None:
    """Strip every Distributed Map state of ``machine`` (recursively), marking each."""
    if not isinstance(machine, dict) or not isinstance(machine.get("States"), dict):
        return
    language = machine.get("QueryLanguage", language)
    for body in machine["States"].values():
        if not isinstance(body, dict):
            continue
        own_language = body.get("QueryLanguage", language)
        if body.get("Type") == "Parallel":
            for branch in body.get("Branches") or []:
                _strip(branch, own_language, found)
        if body.get("Type") != "Map":
            continue
        processor = body.get("ItemProcessor") or body.get("Iterator")
        _strip(processor, own_language, found)
        config = (processor or {}).get("ProcessorConfig") if isinstance(processor, dict) else None
        if not (isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED"):
            continue
        extras = _strip_map(body, own_language == "JSONata")
        found.append((extras, body.get("Comment")))
        body["Comment"] = f"{_MARKER}{len(found) - 1}"


def parse(definition: str) -> Any:
    """moto's parse of ``definition``, its Distributed Map states shown to the grammar without
    what it refuses, and each state given what was taken out."""
    original: Callable[[str], Any] = state.originals["asl_parse"]
    try:
        machine = json.loads(definition)
    except ValueError:
        return original(definition)
    found: list[tuple[Extras, Any]] = []
    _strip(machine, "JSONPath", found)
    if not found:
        return original(definition)
    program, tree = original(json.dumps(machine))
    for component in components(program):
        comment = getattr(getattr(component, "comment", None), "comment", None)
        if isinstance(component, StateMap) and str(comment).startswith(_MARKER):
            extras, own_comment = found[int(str(comment)[len(_MARKER) :])]
            if own_comment is None:
                component.comment = None
            else:
                component.comment.comment = own_comment  # type: ignore[misc,union-attr]
            setattr(component, _EXTRAS, extras)
            setattr(component.iteration_component, _EXTRAS, extras)
    return program, tree


def _count_jsonata(self: Preprocessor, ctx: Any) -> ToleratedFailureCountStringJSONata:
    """moto reads a JSONata ToleratedFailureCount as a ToleratedFailurePercentage."""
    return ToleratedFailureCountStringJSONata(self.visitString_jsonata(ctx=ctx.string_jsonata()))


def _percentage_jsonata(self: ToleratedFailurePercentageStringJSONata, env: Environment) -> float:
    """moto truncates a JSONata ToleratedFailurePercentage to an integer; AWS's is a float
    (recorded: 1.1 in ``test_map_state_tolerated_failure_percentage_path[1.1]``)."""
    self.string_jsonata.eval(env=env)
    return float(env.stack.pop())


# ----------------------------------------------------------------- 62. the map run
_ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class Child:
    """A child workflow execution of a map run: one item, or one batch of items."""

    index: int
    input: Any
    items: int
    name: str
    arn: str
    status: str = "PENDING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    started: datetime.datetime | None = None
    stopped: datetime.datetime | None = None
    redrive_count: int = 0  # a Standard child's own redrives
    redriven: datetime.datetime | None = None
    frame: Any = field(default=None, repr=False)  # while it runs: what stops it


@dataclass
class MapRun:
    record: MapRunRecord
    extras: Extras
    state_machine_arn: str  # the children's: ``<machine>/<label or id>``
    where: tuple[str, Any, str] = ("", (), "")  # execution ARN, scope in it, Map state name
    tolerance_given: tuple[bool, bool] = (False, False)  # (count, percentage)
    children: list[Child] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)
    running: int = 0
    exceeded: bool = False
    stopping: bool = False  # the run failed or was stopped: what could be aborted was
    redrive_count: int = 0
    redrive_date: datetime.datetime | None = None


_runs: OrderedDict[str, MapRun] = OrderedDict()
_runs_lock = threading.Lock()


def map_run(map_run_arn: str) -> MapRun | None:
    with _runs_lock:
        return _runs.get(map_run_arn)


_children: dict[str, tuple[MapRun, Child]] = {}  # Standard children by ARN


def _keep(run: MapRun) -> None:
    with _runs_lock:
        _runs[run.record.map_run_arn] = run
        if run.extras.execution_type == "STANDARD":
            _children.update((child.arn, (run, child)) for child in run.children)
        while len(_runs) > MAP_RUNS_KEPT:
            _, dropped = _runs.popitem(last=False)
            for child in dropped.children:
                _children.pop(child.arn, None)


def child_execution(arn: str) -> tuple[MapRun, Child] | None:
    """A Standard child execution of a map run kept, by its ARN."""
    with _runs_lock:
        return _children.get(arn)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _positive_int(env: Environment, value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        raise _failure(env, StatesErrorNameType.StatesRuntime, f"{name} must be a positive integer")
    return int(value)


def _batches(items: list[Any], batcher: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """AWS's batches: in order, at most MaxItemsPerBatch items and MaxInputBytesPerBatch
    bytes (of the child's input, BatchInput included; 256 KiB at most) each."""
    max_items = batcher.get("MaxItemsPerBatch")
    max_bytes = min(batcher.get("MaxInputBytesPerBatch") or MAX_BATCH_BYTES, MAX_BATCH_BYTES)
    shell: dict[str, Any] = {"BatchInput": batcher["BatchInput"]} if "BatchInput" in batcher else {}
    batch: list[Any] = []
    for item in items:
        grown = {**shell, "Items": [*batch, item]}
        too_many = max_items is not None and len(batch) >= max_items
        if batch and (too_many or len(_compact(grown).encode()) > max_bytes):
            yield {**shell, "Items": batch}
            batch = []
        batch.append(item)
    if batch:
        yield {**shell, "Items": batch}


def _failure(env: Environment, error: StatesErrorNameType, cause: str) -> FailureEventException:
    name = StatesErrorName(typ=error)
    details: Any = {
        "mapRunFailedEventDetails": MapRunFailedEventDetails(error=name.error_name, cause=cause)
    }
    # As moto's own ItemReader failures: a TaskFailed, so that the Map state records
    # MapStateFailed and its Retry and Catch apply.
    event = FailureEvent(
        env=env,
        error_name=name,
        event_type=HistoryEventType.TaskFailed,
        event_details=details,
    )
    return FailureEventException(failure_event=event)


def _child_inputs(env: Environment, eval_input: Any, items: list[Any], extras: Extras) -> list[Any]:
    selected = [_selected(env, eval_input, index, item) for index, item in enumerate(items)]
    if not extras.batcher:
        return selected
    batcher: dict[str, Any] = {}
    for name, template in extras.batcher.items():
        value = template.value(env)
        batcher[name] = value if name == "BatchInput" else _positive_int(env, value, name)
    return list(_batches(selected, batcher))


def _selected(env: Environment, eval_input: Any, index: int, item: Any) -> Any:
    """An item through the Map state's ItemSelector (or Parameters), as moto's workers do."""
    selector = eval_input.item_selector or eval_input.parameters
    if selector is None:
        return item
    frame = env.open_inner_frame()
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(
            Item=ItemData(Index=index, Value=item)
        )
        frame.states.reset(input_value=env.states.get_input())
        frame.stack.append(env.states.get_input())
        selector.eval(frame)
        return frame.stack.pop()
    finally:
        env.delete_frame(frame)


def _child_arn(run: MapRun, name: str) -> str:
    prefix = run.state_machine_arn.replace(":stateMachine:", ":execution:")
    if run.extras.execution_type == "EXPRESS":
        # An Express child's ARN, as an Express execution's (patch 54).
        return f"{prefix.replace(':execution:', ':express:')}:{name}:{uuid.uuid4()}"
    return f"{prefix}:{name}"


def _new_run(env: Environment, eval_input: Any, extras: Extras, inputs: list[Any]) -> MapRun:
    record: MapRunRecord = eval_input.map_run_record
    where = (record.execution_arn, redrive.scope_of(env), eval_input.state_name)
    run = MapRun(record, extras, record.map_state_machine_arn, where, extras.tolerance_given)
    for index, child_input in enumerate(inputs):
        name = str(uuid.uuid4())
        items = len(child_input["Items"]) if extras.batcher else 1
        run.children.append(Child(index, child_input, items, name, _child_arn(run, name)))
    total_items = sum(child.items for child in run.children)
    for counter, amount in (
        (record.item_counter, total_items),
        (record.execution_counter, len(run.children)),
    ):
        counter.total.count(amount)
        counter.pending.count(amount)
    _keep(run)
    return run


def _move(run: MapRun, child: Child, to: str) -> None:
    """Count ``child`` (its items and itself) as ``to`` instead of as its status."""
    record = run.record
    for counts, amount in ((record.item_counter, child.items), (record.execution_counter, 1)):
        by_status = {
            "PENDING": counts.pending,
            "RUNNING": counts.running,
            "SUCCEEDED": counts.succeeded,
            "FAILED": counts.failed,
            "TIMED_OUT": counts.timed_out,
            "ABORTED": counts.aborted,
        }
        by_status[child.status].offset(-amount)
        by_status[to].count(amount)
        if to == "SUCCEEDED":
            counts.results_written.count(amount)
    child.status = to


def _exceeded(run: MapRun) -> bool:
    """Whether the failed (or timed out) items exceed what the Map state tolerates."""
    counts = run.record.item_counter
    failed = counts.failed.get() + counts.timed_out.get()
    count_given, percentage_given = run.tolerance_given
    if not (count_given or percentage_given):
        return failed > 0
    if count_given and failed > run.record.tolerated_failure_count:
        return True
    total = counts.total.get()
    return percentage_given and failed * 100 > run.record.tolerated_failure_percentage * total


def _child_context(env: Environment, frame: Environment, run: MapRun, child: Child) -> None:
    """The child's own context object, as a child execution's ($$.Execution.Id its ARN)."""
    data = frame.states.context_object.context_object_data
    execution = dict(env.states.context_object.context_object_data["Execution"])
    execution.update({"Id": child.arn, "Name": child.name, "Input": copy.deepcopy(child.input)})
    execution["StartTime"] = aws_time(child.started or datetime.datetime.now(datetime.UTC))
    execution["RedriveCount"] = child.redrive_count
    execution.pop("RedriveTime", None)
    if child.redriven is not None:
        execution["RedriveTime"] = aws_time(child.redriven)
    data["Execution"] = execution  # type: ignore[typeddict-item]
    machine_name = run.state_machine_arn.split(":stateMachine:")[-1]
    data["StateMachine"] = {"Id": run.state_machine_arn, "Name": machine_name}


def _run_child(env: Environment, program: Any, run: MapRun, child: Child) -> None:
    express = run.extras.execution_type == "EXPRESS"
    frame = env.open_inner_frame()
    if express:
        # An Express execution cannot be stopped (StopExecution: "not supported by EXPRESS
        # state machines"): neither the map run's failure nor the parent's stop reaches it.
        env.delete_frame(frame)
    else:
        child.frame = frame
    outcome = "FAILED"
    try:
        redrive.enter_child_scope(frame, run.where[2], child.index, restart=express)
        _child_context(env, frame, run, child)
        frame.states.reset(input_value=copy.deepcopy(child.input))
        program.eval(frame)
        ended = frame.program_state()
        if isinstance(ended, ProgramError):
            child.error = (ended.error or {}).get("error")
            child.cause = (ended.error or {}).get("cause")
        elif isinstance(ended, ProgramTimedOut):
            outcome = "TIMED_OUT"
        elif isinstance(ended, ProgramStopped):
            outcome = "ABORTED"
        else:
            outcome, child.output = "SUCCEEDED", frame.states.get_input()
    except FailureEventException as failure:
        child.error, child.cause = failure.extract_error_cause_pair() or (None, None)
    except Exception as error:  # the child fails, as on AWS, not the parent
        child.error, child.cause = StatesErrorNameType.StatesRuntime.to_name(), str(error)
    finally:
        env.delete_frame(frame)
        child.frame = None
        child.stopped = datetime.datetime.now(datetime.UTC)
        with run.condition:
            _move(run, child, outcome)
            run.running -= 1
            run.exceeded = run.exceeded or _exceeded(run)
            run.condition.notify_all()


def _may_start(run: MapRun) -> bool:
    limit = run.record.max_concurrency  # UpdateMapRun may change it while the run goes on
    return run.exceeded or not limit or run.running < limit


def _abort_running(run: MapRun) -> None:
    """Stop the Standard children still running: the map run failed, or its execution was
    stopped (DescribeMapRun's ``aborted``: "stopped by the user or by Step Functions because
    the Map Run failed"). Each stops at its next state, as a stopped execution does. Express
    children run on to their end (they have no frame here)."""
    now = datetime.datetime.now(datetime.UTC)
    for child in run.children:
        if child.status == "RUNNING" and child.frame is not None:
            child.frame.set_stop(stop_date=now, cause=None, error=None)


def _run_children(env: Environment, program: Any, run: MapRun) -> None:
    """At most MaxConcurrency children at once, none started once the failures exceed what is
    tolerated (AWS may still start some meanwhile; none here) or the execution has ended, and
    then those still running aborted."""
    for child in (child for child in run.children if child.status == "PENDING"):
        with run.condition:
            while not _may_start(run):
                run.condition.wait(timeout=0.05)
            if run.exceeded or not env.is_running():
                break
            run.running += 1
            child.started = child.started or datetime.datetime.now(datetime.UTC)
            _move(run, child, "RUNNING")
        threading.Thread(target=_run_child, args=(env, program, run, child), daemon=True).start()
    with run.condition:
        while run.running:
            if not run.stopping and (run.exceeded or not env.is_running()):
                _abort_running(run)
                run.stopping = True
                run.condition.notify_all()
            run.condition.wait(timeout=0.05)
        run.stopping = False  # a redrive runs it again


def _finish(env: Environment, run: MapRun) -> None:
    """The Map state's result, once the children ran, or the run's failure."""
    result = write_results(env, run)
    if run.exceeded:
        raise _failure(
            env, StatesErrorNameType.StatesExceedToleratedFailureThreshold, THRESHOLD_CAUSE
        )
    env.stack.append(result)


def _first_run(component: Any, env: Environment, eval_input: Any) -> None:
    items: list[Any] = env.stack.pop()
    extras: Extras = getattr(component, _EXTRAS, None) or Extras()
    run = _new_run(env, eval_input, extras, _child_inputs(env, eval_input, items, extras))
    _run_children(env, component._get_iteration_program(), run)
    _finish(env, run)


# ----------------------------------------------------------------- 65. Map Run redrive
MAX_MAP_RUN_REDRIVES = 1000  # Developer Guide, "Redriving Map Runs": a hard limit


def _redriven(env: Environment, eval_input: Any) -> MapRun | None:
    """The map run a redrive of the execution resumes: the last one of this Map state (in
    this scope of this execution) that did not succeed; None, a map run starts."""
    name = eval_input.state_name
    if not redrive.resumes_map(env, name):
        return None
    where = (eval_input.map_run_record.execution_arn, redrive.scope_of(env), name)
    with _runs_lock:
        found = [run for run in _runs.values() if run.where == where]
    if not found or found[-1].record.status == MapRunStatus.SUCCEEDED:
        return None
    return found[-1]


def _rerun(component: Any, env: Environment, run: MapRun) -> None:
    """Run again the children that did not succeed: a Standard child is redriven (its ARN
    kept, its redrive count up, resuming where it stopped), an Express one started again."""
    now = datetime.datetime.now(datetime.UTC)
    express = run.extras.execution_type == "EXPRESS"
    for child in run.children:
        if child.status == "SUCCEEDED":
            continue
        if child.status != "PENDING":
            _move(run, child, "PENDING")
            if express:
                child.name = str(uuid.uuid4())
                child.arn, child.started = _child_arn(run, child.name), None
            else:
                child.redrive_count, child.redriven = child.redrive_count + 1, now
        child.output = child.error = child.cause = child.stopped = None
    _run_children(env, component._get_iteration_program(), run)
    _finish(env, run)


def _redrive_run(env: Environment, eval_input: Any, run: MapRun) -> None:
    if run.redrive_count >= MAX_MAP_RUN_REDRIVES:
        raise _failure(
            env,
            StatesErrorNameType.StatesRuntime,
            f"Map Run {run.record.map_run_arn} has been redriven {MAX_MAP_RUN_REDRIVES} times",
        )
    run.redrive_count += 1
    run.redrive_date = datetime.datetime.now(datetime.UTC)
    run.exceeded = False
    run.record.status, run.record.stop_date = MapRunStatus.RUNNING, None
    eval_input.map_run_record = run.record


def _eval_body(self: DistributedIterationComponent, env: Environment) -> None:
    """moto's map run, with AWS's: a redriven parent redrives its failed map run (the same
    ARN, MapRunRedriven) instead of starting another, and the run's failure named."""
    eval_input = env.stack.pop()
    previous = _redriven(env, eval_input)
    if previous is not None:
        _redrive_run(env, eval_input, previous)
    record: MapRunRecord = eval_input.map_run_record
    started: Any = (
        {
            "mapRunRedrivenEventDetails": {
                "mapRunArn": record.map_run_arn,
                "redriveCount": previous.redrive_count,
            }
        }
        if previous is not None
        else {"mapRunStartedEventDetails": {"mapRunArn": record.map_run_arn}}
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.MapRunRedriven if previous else HistoryEventType.MapRunStarted,
        event_details=started,
    )
    parent_events = env.event_manager
    try:
        if previous is None:
            if eval_input.item_reader:
                eval_input.item_reader.eval(env=env)
            else:
                env.stack.append(eval_input.input_items)
        env.event_manager = EventManager()  # the children's events are not the parent's
        if previous is None:
            _first_run(self, env, eval_input)
        else:
            _rerun(self, env, previous)
    except Exception as error:
        env.event_manager = parent_events
        pair = (
            error.extract_error_cause_pair() if isinstance(error, FailureEventException) else None
        )
        error_name, cause = pair or (None, None)
        details = {key: value for key, value in (("error", error_name), ("cause", cause)) if value}
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.MapRunFailed,
            event_details=cast(Any, {"mapRunFailedEventDetails": details}),
        )
        record.set_stop(status=MapRunStatus.FAILED)
        raise
    finally:
        env.event_manager = parent_events
    stopped = not env.is_running()  # StopExecution: the map run is aborted with it
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.MapRunAborted if stopped else HistoryEventType.MapRunSucceeded,
    )
    record.set_stop(status=MapRunStatus.ABORTED if stopped else MapRunStatus.SUCCEEDED)


# ----------------------------------------------------------------- 63. ResultWriter
def _entry(run: MapRun, child: Child) -> dict[str, Any]:
    """A child execution as AWS writes it in a result file (Transformation NONE)."""
    entry: dict[str, Any] = {
        "ExecutionArn": child.arn,
        "Input": _compact(child.input),
        "InputDetails": {"Included": True},
        "Name": child.name,
        "OutputDetails": {"Included": True},
        "RedriveCount": child.redrive_count,
        "StateMachineArn": run.state_machine_arn,
        "Status": child.status,
    }
    if child.status == "SUCCEEDED":
        entry["Output"] = _compact(child.output)
        entry["RedriveStatus"] = "NOT_REDRIVABLE"
        entry["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    else:
        entry["RedriveStatus"] = "REDRIVABLE_BY_MAP_RUN"
        entry.update({"Error": child.error, "Cause": child.cause})
        entry = {key: value for key, value in entry.items() if value is not None}
    if child.started is not None and child.stopped is not None:
        entry["StartDate"], entry["StopDate"] = aws_time(child.started), aws_time(child.stopped)
    return dict(sorted(entry.items()))


def _pending_entry(child: Child) -> dict[str, Any]:
    return {"Input": _compact(child.input), "InputDetails": {"Included": True}, "Status": "PENDING"}


def _transformed(children: list[Child], transformation: str, run: MapRun) -> list[Any]:
    """The children's results: COMPACT their outputs, FLATTEN those with arrays spread, NONE
    their executions; a child that did not succeed is returned as NONE whatever is asked."""
    results: list[Any] = []
    for child in children:
        if child.status != "SUCCEEDED" or transformation == "NONE":
            results.append(_entry(run, child))
        elif transformation == "FLATTEN" and isinstance(child.output, list):
            results.extend(child.output)
        else:
            results.append(child.output)
    return results


def _body(entries: list[Any], output_type: str) -> bytes:
    if output_type == "JSONL":
        return "".join(_compact(entry) + "\n" for entry in entries).encode()
    return _compact(entries).encode()


def write_results(env: Environment, run: MapRun) -> Any:
    """The Map state's result: the children's results, or where they were written."""
    writer = run.extras.writer or {}
    config = writer.get("WriterConfig") or {}
    exporting = "Arguments" in writer
    transformation = config.get("Transformation", "NONE" if exporting else "COMPACT")
    ended = [child for child in run.children if child.status in _ENDED]
    if not exporting:
        return _transformed(ended, transformation, run)
    if not str(writer.get("Resource", "")).endswith(":s3:putObject"):
        raise _failure(env, StatesErrorNameType.StatesResultWriterFailed, "Unsupported Resource")
    arguments = writer["Arguments"].value(env)
    bucket, prefix = arguments["Bucket"], str(arguments.get("Prefix") or "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    arn = run.record.map_run_arn
    folder = f"{prefix}{arn.split(':')[-1]}/"
    extension = ".jsonl" if config.get("OutputType") == "JSONL" else ".json"
    s3 = boto_client_for(arn.split(":")[3], "s3")
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    groups = {
        "SUCCEEDED": _transformed(
            [child for child in ended if child.status == "SUCCEEDED"], transformation, run
        ),
        "FAILED": [_entry(run, child) for child in ended if child.status != "SUCCEEDED"],
        "PENDING": [_pending_entry(child) for child in run.children if child.status == "PENDING"],
    }
    try:
        for status, entries in groups.items():
            if entries:
                key, body = (
                    f"{folder}{status}_0{extension}",
                    _body(entries, str(config.get("OutputType", "JSON"))),
                )
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                files[status].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": arn, "ResultFiles": files}
        s3.put_object(Bucket=bucket, Key=f"{folder}manifest.json", Body=_compact(manifest).encode())
    except Exception as error:  # the service's refusal, as AWS names it
        raise _failure(env, StatesErrorNameType.StatesResultWriterFailed, str(error)) from None
    return {
        "MapRunArn": arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": f"{folder}manifest.json"},
    }


# ----------------------------------------------------------------- 64. map run APIs
def _describe(self: MapRunRecord) -> Any:
    """moto's answer with what the API reference adds since map runs can be redriven."""
    described = state.originals["map_run_describe"](self)
    run = map_run(self.map_run_arn)
    described["redriveCount"] = run.redrive_count if run is not None else 0
    if run is not None and run.redrive_date is not None:
        described["redriveDate"] = iso_8601_datetime_with_milliseconds(run.redrive_date)
    for counts in ("itemCounts", "executionCounts"):
        described[counts].update({"failuresNotRedrivable": 0, "pendingRedrive": 0})
    return described


def map_run_not_found(map_run_arn: str) -> JsonRESTError:
    """ResourceNotFound, rendered (moto's own exception class is answered with no code)."""
    return JsonRESTError("ResourceNotFound", f"Map Run Does Not Exist: '{map_run_arn}'")


def _describe_map_run(self: StepFunctionsParserBackend, map_run_arn: str) -> Any:
    """Every map run kept (moto looks in each execution's last attempt only, and fails on an
    execution whose worker has not made its environment yet)."""
    run = map_run(map_run_arn)
    if run is None:
        raise map_run_not_found(map_run_arn)
    return run.record.describe()


def _list_map_runs(self: StepFunctionsParserBackend, execution_arn: str) -> Any:
    self.describe_execution(execution_arn=execution_arn)
    with _runs_lock:
        runs = [run for run in _runs.values() if run.where[0] == execution_arn]
    return {"mapRuns": [run.record.list_item() for run in reversed(runs)]}


def _update_map_run(
    self: StepFunctionsParserBackend,
    map_run_arn: str,
    max_concurrency: int | None,
    tolerated_failure_count: Any,
    tolerated_failure_percentage: Any,
) -> None:
    run = map_run(map_run_arn)
    if run is None:
        raise map_run_not_found(map_run_arn)
    with run.condition:
        run.record.update(max_concurrency, tolerated_failure_count, tolerated_failure_percentage)
        count_given, percentage_given = run.tolerance_given
        run.tolerance_given = (
            count_given or tolerated_failure_count is not None,
            percentage_given or tolerated_failure_percentage is not None,
        )
        run.condition.notify_all()


def _list_executions(self: StepFunctionResponse) -> ActionResult:
    map_run_arn = self._get_param("mapRunArn")
    if not map_run_arn:
        answer: ActionResult = state.originals["dmap_list_executions"](self)
        return answer
    run = map_run(map_run_arn)
    if run is None:
        raise map_run_not_found(map_run_arn)
    if run.extras.execution_type == "EXPRESS":
        raise JsonRESTError(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        )
    status_filter = self._get_param("statusFilter")
    listed = []
    for child in sorted(
        run.children,
        key=lambda c: c.started or datetime.datetime.max.replace(tzinfo=datetime.UTC),
        reverse=True,
    ):
        if child.started is None or (status_filter and child.status != status_filter):
            continue
        item: dict[str, Any] = {
            "executionArn": child.arn,
            "stateMachineArn": run.state_machine_arn,
            "name": child.name,
            "status": child.status,
            "startDate": child.started,
            "mapRunArn": map_run_arn,
            "itemCount": child.items,
            "redriveCount": child.redrive_count,
        }
        if child.redriven is not None:
            item["redriveDate"] = child.redriven
        if child.stopped is not None:
            item["stopDate"] = child.stopped
        listed.append(item)
    return ActionResult({"executions": listed})


def _child_described(run: MapRun, child: Child) -> dict[str, Any]:
    """DescribeExecution of a Standard child execution (API reference: ``mapRunArn``; the
    redrive fields as in the result files)."""
    described: dict[str, Any] = {
        "executionArn": child.arn,
        "stateMachineArn": run.state_machine_arn,
        "name": child.name,
        "status": child.status,
        "startDate": child.started,
        "input": _compact(child.input),
        "inputDetails": {"included": True},
        "mapRunArn": run.record.map_run_arn,
        "redriveCount": child.redrive_count,
    }
    if child.stopped is not None:
        described["stopDate"] = child.stopped
    if child.redriven is not None:
        described["redriveDate"] = child.redriven
    if child.status == "SUCCEEDED":
        described["output"] = _compact(child.output)
        described["outputDetails"] = {"included": True}
    if child.status in ("SUCCEEDED", "RUNNING"):
        described["redriveStatus"] = "NOT_REDRIVABLE"
        described["redriveStatusReason"] = f"Execution is {child.status} and cannot be redriven"
    else:
        described["redriveStatus"] = "REDRIVABLE_BY_MAP_RUN"
        described.update({k: v for k, v in (("error", child.error), ("cause", child.cause)) if v})
    return described


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    found = child_execution(str(self._get_param("executionArn")))
    if found is None or found[1].status == "PENDING":  # a child not started is no execution
        answer: ActionResult = state.originals["dmap_describe_execution"](self)
        return answer
    return ActionResult(_child_described(*found))


def install() -> None:
    replace(AmazonStateLanguageParser, "parse", staticmethod(parse), "asl_parse")
    replace(Preprocessor, "visitTolerated_failure_count_string_jsonata", _count_jsonata)
    replace(
        ToleratedFailurePercentageStringJSONata,
        "_eval_tolerated_failure_percentage",
        _percentage_jsonata,
        "tolerated_percentage_jsonata",
    )
    replace(DistributedIterationComponent, "_eval_body", _eval_body, "distributed_eval_body")
    for name, replacement in (
        ("describe_map_run", _describe_map_run),
        ("list_map_runs", _list_map_runs),
        ("update_map_run", _update_map_run),
    ):
        replace(StepFunctionsParserBackend, name, replacement, f"dmap_{name}")
    replace(MapRunRecord, "describe", _describe, "map_run_describe")
    replace(StepFunctionResponse, "list_executions", _list_executions, "dmap_list_executions")
    replace(
        StepFunctionResponse, "describe_execution", _describe_execution, "dmap_describe_execution"
    )


__all__ = ["Child", "Extras", "MapRun", "compile_template", "map_run", "parse", "write_results"]
