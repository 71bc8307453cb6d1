"""Every patch to moto's internals, one module per service, each with a test
(tests/unit/test_patches.py). ``apply`` installs them all, and what it returns removes
them again (a context manager): every replacement goes through ``base.replace`` or
``base.set_attribute``, which remember how to put moto's part back.

Where each lives: awslambda (1, 22, 29, 30, 70), stepfunctions.api (2, 14, 19, 20),
stepfunctions.mocking (3, 8, 42), stepfunctions.runtime (4, 9, 10, 43), stepfunctions.interpreter
(5, 7, 13, 15-18), stepfunctions.redrive (23), stepfunctions.test_state (24),
stepfunctions.validate (25), stepfunctions.integrations (26, 27, 31, 33-35, 38),
stepfunctions.evaluation (39-41, 44, 45), stepfunctions.express (54-56, 58, 59),
stepfunctions.distributed_map (61-65), stepfunctions.map_iterations (66), events (6, 12, 57),
server (11), s3 (21, 50, 51), dynamodb (28, 32, 60), sns (36), sqs (37, 52, 53).


moto 5.2.5 ships an executing Step Functions interpreter, but:
1. Lambda code only runs in Docker: ``LambdaFunction._invoke_lambda`` is the one
   hook behind direct invoke, Step Functions tasks, event source mappings and
   S3/SNS targets; it is routed to the local Lambda service (lambdas.py).
2. StartExecution without a name names the execution "None"; a generated name
   is used instead, as on AWS. And it is not atomic: two concurrent calls with
   one name could both start an execution; they are serialized, so the name
   stays the idempotency key it is on AWS.
3. Step Functions Local's MockConfigFile support is vendored but dormant
   (``load_mock_test_case_for`` returns None). It is wired up with moto's own
   MockTestCase classes: ``StartExecution`` on ``<stateMachineArn>#<TestCase>``
   runs that test case from the file named by ``SFN_MOCK_CONFIG``, as Step
   Functions Local does.
4. Retry intervals and Wait states sleep real seconds; a time scale makes
   tests and soak runs fast without changing the ASL.
5. A definite JSONPath that goes through an array index (``$[1].filters``,
   ``$.a[0].b``) returns its value wrapped in a list; on AWS it returns the value.
6. Executions emit no EventBridge events; on AWS every status change sends a
   "Step Functions Execution Status Change" event to the default bus. Ended
   executions now send theirs, so rules on them work locally.
7. A MockConfigFile ``Throw`` on a service integration (dynamodb:updateItem,
   sns:publish, ...) loses its error name (it becomes e.g.
   DynamoDB.AmazonDynamoDBException); Step Functions Local keeps it, so do we.
   Likewise a JSONPath in a Task's Parameters that selects nothing became the
   service's exception, retried and caught; on AWS it is States.Runtime, which ends
   the execution (Retry and Catch, States.ALL included, do not apply to it).
8. Mocked responses are picked by the state's retry count, so every iteration
   of a Map gets the same ones. Replays need each invocation's own recorded
   result: an ``InvocationOrderedTestCase`` hands them out in invocation order.
9. Every Task state builds a new boto3 client for its call (tens of ms each,
   several per execution) and sends it over HTTP to the server in this very
   process, a new connection per call (the server closes each). One client per
   region and service is kept, as a long-lived service would, and it calls the
   services in-process through moto's own request dispatcher, as the
   interpreter does under ``mock_aws``: the same responses and backends,
   about 0.8 ms a call instead of 2.8 ms.
10. Every execution parses the whole definition again with the ANTLR grammar
   (about 50 ms of CPU, holding the GIL, before its first state), and every
   JSONPath is parsed again each time a state reads one. Parsed definitions
   are kept per definition text, the 32 most recently used (the parsed
   components keep no execution state; each component's heap key is drawn
   before sharing), and parsed JSONPaths per path.
11. The server's dispatcher lists moto's package directory (a listdir and a
   stat per service, about 170) on every request, inside a lock that every
   request takes; the list is read once.
12. A scheduled EventBridge rule (a ScheduleExpression, no EventPattern)
   matches every event put on its bus, and its Lambda target then raises
   NotImplementedError, ending the delivery to the rules after it. On AWS such
   a rule matches no event; it is left out of event matching.
13. JSONata is stubbed (the evaluator is None): every JSONata expression, and every
   read of a variable, even in JSONPath states, fails with a TypeError. It is
   evaluated by photoflow_local.aws_jsonata (jsonata-python with AWS's $partition,
   $range, $hash, $random, $uuid and $parse, without $eval); moto's own stand-ins
   for AWS's functions (JSONata text that answers "not supported" for $hash and
   $uuid) are no longer prepended to expressions.
14. DescribeExecution lacks ``inputDetails``, ``redriveCount`` and ``redriveStatus``
   (with ``redriveStatusReason`` when not redrivable), which AWS always answers. And an
   output that is a string is answered bare (``caught``), not as JSON (``"caught"``).
15. The context object's times (``$$.Execution.StartTime``, ``$$.State.EnteredTime``)
   are Python's ISO format (``2026-12-01T06:12:23.251887+00:00``); AWS's are
   ``2026-12-01T06:12:23.251Z``. And ``$$.Execution.RedriveCount`` is missing.
16. A Map's or Pass's EvaluationFailed event follows the state's entered event
   (previousEventId); on AWS it follows what the entered event followed, as recorded
   histories show (a Wait's follows its entered event, as moto does already).
17. A Map whose input is not an array fails with a cause naming the Python type
   ("... but was: <class 'bool'>"); AWS's shows the value as JSON ("... but was: true").
   And a JSONata Items of an unsupported type says "for the field 'Items'" where AWS
   says "specified for the field 'Items'".
18. A JSONata Wait ``Timestamp`` that is not an ISO-8601 extended offset date-time
   fails the execution as States.Runtime; AWS records an EvaluationFailed event,
   States.QueryEvaluationError, location "Timestamp", and its own cause.
19. GetExecutionHistory answers every event at once, whatever ``maxResults``,
   ``nextToken``, ``reverseOrder`` and ``includeExecutionData`` ask. As on AWS (API
   reference): pages of ``maxResults`` (default 100, at most 1000, 0 the default) with
   an opaque ``nextToken`` (another execution's or order's token: InvalidToken),
   newest first when reversed, and without the events' input and output when
   ``includeExecutionData`` is false.
20. StartExecution with an input that is not JSON fails with an error of no code (the
   interpreter's own exception class, which moto's responses do not render); AWS
   answers InvalidExecutionInput (HTTP 400).
21. S3 event notifications carry no ``versionId`` (nor ``sequencer``), so a consumer
   of a versioned bucket reads whatever version is latest when it gets there, not the
   one the event is about. AWS's events name the version of a versioning-enabled
   bucket, and a sequencer that orders the events of one key.
22. (with 1.) A function created through the endpoint (CreateFunction with a zip) could
   not be invoked: only the template's functions were known to the local runtime. Its
   zip is unpacked and run like theirs, for Python runtimes.
23. There is no RedriveExecution. As AWS documents it: a FAILED, ABORTED or TIMED_OUT
   Standard execution resumes, same ARN and input, at the state it stopped in; a Parallel
   or inline Map reruns only the branches or iterations that had not ended; the history
   goes on with ``ExecutionRedriven``; ``redriveCount``/``redriveDate`` in DescribeExecution
   and ListExecutions (``redriveFilter``), ``$$.Execution.RedriveCount``/``RedriveTime``,
   AWS's reasons when not redrivable, ``clientToken`` idempotency, and a RUNNING status-change
   event with the redrive fields (which every status-change event now carries).
24. TestState has no route, and the TestState program moto vendors predates the API of
   November 2025 (no ``stateName``, ``mock``, ``stateConfiguration``, ``context``,
   ``variables``; no Map or Parallel; FAILED where AWS answers RETRIABLE or CAUGHT_ERROR).
   TestState runs one state once with moto's own components, mocks in place of the
   service call or the iterations, AWS's statuses, inspection data and refusals.
25. ValidateStateMachineDefinition has no route, and an invalid definition is refused with
   the parser's exception text. Both answer AWS's diagnostics (SCHEMA_VALIDATION_FAILED,
   INVALID_JSON_DESCRIPTION, with AWS's messages and locations), CreateStateMachine and
   UpdateStateMachine AWS's InvalidDefinition message.
26. A ``lambda:invoke`` Task returns only ``StatusCode`` and ``Payload``; on AWS also
   ``ExecutedVersion``, ``SdkHttpMetadata`` (``AllHttpHeaders``, ``HttpHeaders``,
   ``HttpStatusCode``) and ``SdkResponseMetadata`` (``RequestId``), with ``LogResult`` when
   the Task asks for the log tail.
27. The optimised DynamoDB (putItem, getItem, updateItem, deleteItem), SNS (publish) and
   SQS (sendMessage) integrations return the service's answer without the
   ``SdkHttpMetadata`` and ``SdkResponseMetadata`` AWS adds, with the headers each service
   answers (``aws-sdk:*`` integrations return the bare answer on AWS too).
28. DynamoDB's UpdateItem answers ``ConsumedCapacity`` whether or not it is asked for; AWS
   answers it only for ``ReturnConsumedCapacity`` TOTAL or INDEXES.
29. Invoke hands the function the payload parsed and re-encoded: a JSON null reached it as
   ``{}``, a JSON string as bare text. It now gets the payload as sent. And the log tail
   is answered for ``LogType: Tail`` only, as Lambda's log (START, END, REPORT lines).
30. Invoking a function that does not exist says ``Function not found: arn:...:function:f``;
   Lambda names the version asked for (``...:function:f:$LATEST``).
31. A Task whose Resource is a function's ARN sends a null input as ``{}``; AWS sends
   ``null`` (the ``lambda:invoke`` integration sends ``{}`` for a null Payload, as moto does).
32. DynamoDB's item operations take a table name outside ``[a-zA-Z0-9_.-]+`` for a missing
   table, and fail on a null Item or Key with a Python error; DynamoDB answers
   ValidationException ("1 validation error detected: ...").
33. A service error's name in a Task: DynamoDB's codes that AWS's SDK has no class for
   (ValidationException) are ``DynamoDB.AmazonDynamoDBException`` on AWS, not
   ``DynamoDB.ValidationException``; every SQS error was ``SQS.SdkClientException`` with
   the bare message, where AWS says ``SQS.AmazonSQSException`` (or the SDK's class) and
   gives the service, status, code and request id in the cause.
34. A null parameter (``"Item": null``) reached moto's client, which failed on it in
   Python; AWS's SDK leaves it out, and the service answers its own validation error.
35. An ``sqs:sendMessage`` to a queue URL whose host is no SQS endpoint reached the local
   SQS anyway; AWS's client sends the request to that host and fails:
   ``SQS.SdkClientException``, "Unable to execute HTTP request: <host>: Name or service
   not known".
36. SNS Publish to a topic that does not exist says "Endpoint does not exist" (SNS: "Topic
   does not exist"); to a FIFO topic without MessageGroupId, SQS's MissingParameter (SNS:
   InvalidParameter, "The MessageGroupId parameter is required for FIFO topics"); and a
   FIFO message is answered without its ``SequenceNumber``.
37. SQS SendMessage without MessageBody fails with a Python error; SQS answers
   MissingParameter ("The request must contain the parameter MessageBody.").
38. An ``aws-sdk:*`` Task fails on a JSON value of a blob parameter (an S3 PutObject's Body
   as an object, a list or text: AWS sends its compact JSON), and returns the SDK's answer
   with its streamed body and its times as Python objects (a GetObject's Body, its
   LastModified), which the execution's output cannot be written from (DescribeExecution
   failed). The body is returned as text and a time as AWS writes it
   (``2013-08-23T01:02:15.422Z``).
39. A JSONata expression that returns nothing or throws, in Output, Assign or Arguments,
   fails without the field: AWS's EvaluationFailed event has a ``location``
   ("Output/result", "Assign/answer") and says "specified for the field '...'" in its
   cause; an expression that throws (T1006 ...) is States.QueryEvaluationError with
   "threw an error during evaluation", not States.Runtime.
40. Variables take effect as soon as Assign is evaluated, so a state's own ResultPath,
   OutputPath or Output read the new values; on AWS they read the values from before the
   state, and the assignments take effect when the state has computed its output.
41. The context value ``$`` is refused wherever it stands alone in a JSONata expression
   (IllegalJSONataVariableReference); AWS refuses it at the top level only, and evaluates
   it as the current item in a predicate or a function's body (``$states.result[$ = 1]``).
42. A mocked error (MockConfigFile ``Throw``, TestState ``errorOutput``) named like one of
   AWS's own (States.TaskFailed) is refused as a custom error name, which ends the run with
   an unrelated error; it is that error, and a Catcher or Retrier on its name handles it.
43. The parser keeps its stack of query-language scopes on its class, shared by every parse
   in every thread: a definition that fails to parse leaves its scope open, and every later
   one is parsed inside it (a valid JSONPath definition refused with "Unsupported
   declaration in QueryLanguage=JSONPath block"); parses in two threads mix theirs. Each
   parse has its own.
44. Every JSONata expression is evaluated as text composed anew: each variable it may read
   and ``$states`` written into it as JSON (``($photo := {...}; $states := {...}; expr)``),
   parsed by the evaluator, then parsed and evaluated again to check it is not undefined
   (milliseconds per expression once a workflow's variables hold a photo's derivatives,
   and a string variable holding a quote breaks the expression). Each expression is
   parsed once and evaluated with the values bound as its variables.
45. A literal string in Assign keeps its JSON escapes (``"say \\"hi\\""`` assigns
   ``say \\"hi\\"``); what reads it as JSONata text (44, unpatched) hid that. It is the
   string's value, as every other string in a definition; and a history's
   ``assignedVariables`` show a string as JSON (quoted and escaped), as AWS's do.
54. An EXPRESS state machine ran as a STANDARD one: ``...:execution:MACHINE:NAME`` ARNs, and
   a second StartExecution with a name in use answered ExecutionAlreadyExists (or the running
   execution). As on AWS, an Express execution's ARN is
   ``arn:aws:states:REGION:ACCOUNT:express:MACHINE:NAME:UUID``, every start starts a new
   execution whatever its name, and none is kept once it ends.
55. DescribeExecution, GetExecutionHistory and StopExecution answered for Express executions
   and ListExecutions listed them; AWS refuses them (recorded): InvalidArn "Invalid Arn:
   'Resource type not valid in this context: express'", and StateMachineTypeNotSupported for
   ListExecutions of an Express state machine.
56. StartSyncExecution had no route (HTTP 500, NotImplementedError). It runs an Express
   execution to its end (five minutes at most) and answers AWS's shape: executionArn,
   stateMachineArn, name, startDate, stopDate, status (SUCCEEDED, FAILED, TIMED_OUT), input,
   output, error, cause, their details and billingDetails; a STANDARD state machine is
   refused with StateMachineTypeNotSupported, as recorded.
57. (with 6.) Express executions sent status-change events to EventBridge; AWS sends none.
58. No execution wrote logs: moto starts every execution without a logging session, and its
   own writer fails on the time it is given. Every execution logs to the CloudWatch Logs
   group of its state machine's LoggingConfiguration, at its level (ALL, ERROR, FATAL, OFF)
   and with or without execution data, each event as AWS writes it (recorded): ``id``,
   ``type``, ``details`` (the history event's), ``previous_event_id``, ``event_timestamp``
   (epoch milliseconds), ``execution_arn`` and ``redrive_count``, ids and counts as strings.
59. An Express execution ran as long as its states took; AWS ends one at five minutes
   (Developer Guide, "Standard and Express workflows"): it times out then (TIMED_OUT, an
   ExecutionTimedOut event), or at the definition's own TimeoutSeconds if that is shorter.
60. An UpdateItem took 17 ms in moto, three in every photo's execution: its update expression
   was parsed two or three times per call, and validated in ten passes that rebuilt their
   tables per node and searched every nested sub-expression again (quadratic). Parsed trees
   are kept per expression, the tables built once per pass, the clause and path checks made
   once on the whole expression (moto's own passes only when that fails, for its errors).
61. A Distributed Map as AWS takes it was refused: the grammar has no ``ItemBatcher``, takes no
   integer ``ToleratedFailurePercentage``, no ``ExecutionType`` EXPRESS, and no ``Arguments`` or
   ``WriterConfig`` in a ``ResultWriter``. What it refuses is taken out of each Distributed Map
   state before the grammar sees the definition, and kept with the parsed state. A JSONata
   ToleratedFailureCount was read as a ToleratedFailurePercentage, and a JSONata
   ToleratedFailurePercentage truncated to an integer (AWS's is a float).
62. A map run tolerated every failure (a failed child was a null result) and gave each child
   one item. As on AWS: children get batches (``{"Items": [...], "BatchInput": {...}}``,
   MaxItemsPerBatch, MaxInputBytesPerBatch, their paths and JSONata); the run fails with
   States.ExceedToleratedFailureThreshold (MapRunFailed, MapStateFailed, catchable) once the
   failed items exceed ToleratedFailureCount or ToleratedFailurePercentage (any failure when
   neither is given), and starts no more children then; a failed child's result is its
   execution; items and child executions are counted apart; an UpdateMapRun of
   MaxConcurrency applies to the running map run; ``$$.Execution`` is the child's own. Children
   still running when the map run fails, or its execution is stopped, are aborted (the map run
   ABORTED, with a MapRunAborted event, when the execution was stopped).
63. A ResultWriter wrote an empty manifest. It writes ``<Prefix>/<map run id>/manifest.json``
   with ``SUCCEEDED_0.json``, ``FAILED_0.json`` and ``PENDING_0.json`` as AWS does, and
   WriterConfig's Transformation (NONE, COMPACT, FLATTEN) and OutputType (JSON, JSONL) apply.
64. DescribeMapRun lacked ``redriveCount``, ``failuresNotRedrivable`` and ``pendingRedrive``;
   ListExecutions with ``mapRunArn`` failed. It lists a map run's Standard child executions
   (``mapRunArn``, ``itemCount``), and DescribeExecution describes one (``mapRunArn``, the
   redrive fields); Express children are not listed (StateMachineTypeNotSupported).
   ListMapRuns, DescribeMapRun and UpdateMapRun answered only for an execution's last attempt.
65. (with 23.) A redriven execution whose Distributed Map had failed started another map run.
   As AWS documents it ("Redriving Map Runs"), the map run is redriven: the same ARN, a
   MapRunRedriven event, ``redriveCount``/``redriveDate`` in DescribeMapRun; only the children
   that did not succeed run again, a Standard one redriven (its ARN kept, resuming at the state
   that failed, ``$$.Execution.RedriveCount`` up), an Express one started again as new.
66. An inline Map failed when one iteration failed, but its other iterations ran on to their
   ends, their later states after the Map had failed. As on AWS (recorded: MapIterationAborted
   for each), they are stopped, each at its next state.
70. (with 1.) UpdateFunctionConfiguration and UpdateFunctionCode changed only moto's record of
   the function, which nothing local runs from: the local runtime kept the old environment,
   timeout and memory (and a zip-created function its old code). Both reach the runtime too,
   which retires the function's sandboxes, as Lambda does with its execution environments
   after an update: idle ones at once, busy ones when their invocation ends.
"""

from __future__ import annotations

import importlib.metadata

from photoflow_local.patches import awslambda, dynamodb, events, s3, server, sns, sqs
from photoflow_local.patches.base import (
    MOCK_CONFIG_ENV,
    MOTO_VERSION,
    LambdaRuntime,
    MockConfigError,
    failure_event,
    state,
    undo_all,
)
from photoflow_local.patches.events import STATUS_CHANGE, status_change_detail
from photoflow_local.patches.stepfunctions import (
    api,
    distributed_map,
    evaluation,
    express,
    integrations,
    interpreter,
    map_iterations,
    mocking,
    redrive,
    runtime,
    test_state,
    validate,
)
from photoflow_local.patches.stepfunctions.interpreter import aws_time, extract_json
from photoflow_local.patches.stepfunctions.mocking import (
    load_mock_test_case,
    mock_test_case_from_config,
    mocked_response,
    ordered_test_case,
    register_test_case,
)
from photoflow_local.patches.stepfunctions.runtime import boto_client_for, components, new_client

__all__ = [
    "MOCK_CONFIG_ENV",
    "MOTO_VERSION",
    "STATUS_CHANGE",
    "Applied",
    "LambdaRuntime",
    "MockConfigError",
    "apply",
    "aws_time",
    "boto_client_for",
    "components",
    "extract_json",
    "failure_event",
    "load_mock_test_case",
    "mock_test_case_from_config",
    "mocked_response",
    "new_client",
    "ordered_test_case",
    "register_test_case",
    "set_time_scale",
    "status_change_detail",
]

_MODULES = (
    awslambda,
    api,
    mocking,
    runtime,
    interpreter,
    evaluation,
    integrations,
    test_state,
    validate,
    events,
    server,
    s3,
    dynamodb,
    sns,
    sqs,
    redrive,
    distributed_map,
    map_iterations,
    express,  # last: its refusals of Express ARNs come before every other patch's answer
)


class Applied:
    """The patches as one ``apply`` left them, undone by :meth:`remove` or on leaving a
    ``with`` block: the ``apply`` that installed them puts every part of moto back as it
    was; one that found them installed puts back the runtime and time scale it replaced,
    and leaves them installed for whoever installed them (a local stack in this process)."""

    def __init__(self, installed: bool, runtime: LambdaRuntime | None, time_scale: float) -> None:
        self.installed = installed
        self._previous = (runtime, time_scale)
        self._removed = False

    def remove(self) -> None:
        if self._removed:
            return
        self._removed = True
        state.runtime, state.time_scale = self._previous
        if self.installed:
            undo_all()
            state.applied = False

    def __enter__(self) -> Applied:
        return self

    def __exit__(self, *_: object) -> None:
        self.remove()


def apply(lambda_runtime: LambdaRuntime, *, time_scale: float = 1.0) -> Applied:
    """Install every patch (idempotent) and route Lambda invocations to ``lambda_runtime``;
    what is returned undoes it (``with patches.apply(runtime): ...``)."""
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise RuntimeError(f"these patches are for moto {MOTO_VERSION}, found {installed}")
    applied = Applied(not state.applied, state.runtime, state.time_scale)
    state.runtime = lambda_runtime
    state.time_scale = time_scale
    if state.applied:
        return applied
    for module in _MODULES:
        module.install()
    state.applied = True
    return applied


def set_time_scale(time_scale: float) -> None:
    state.time_scale = time_scale
