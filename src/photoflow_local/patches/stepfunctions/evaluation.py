"""How JSONata expressions fail, when variables take effect, and where ``$`` may stand
(patches 39-41), as AWS's recordings in tests/conformance/cases show; and expressions
evaluated with their values bound, not written into their text (patch 44), and Assign's
literal strings read as JSON (patch 45)."""

from __future__ import annotations

import contextlib
import copy
import sys
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import from_string_literal
from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_binding import (
    AssignTemplateBinding,
)
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal import (
    AssignTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_binding import (
    JSONataTemplateBinding,
)
from moto.stepfunctions.parser.asl.component.common.outputdecl import Output
from moto.stepfunctions.parser.asl.component.common.parargs import Arguments
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringJSONata,
    StringVariableSample,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.variable_store import NoSuchVariable, VariableStore
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from photoflow_local import aws_jsonata
from photoflow_local.patches.base import failure_event, patch_module_function, replace, state

# ----------------------------------------------------------------- 39. JSONata failures
# A failed expression's EvaluationFailed event names where it is: the state's field and the
# keys down to the expression ("Output/result", "Assign/answer"), in its location and cause.
_UNDEFINED = "' returned nothing (undefined)."


def _step(component: EvalComponent) -> str | None:
    if isinstance(component, Output):
        return "Output"
    if isinstance(component, AssignDecl):
        return "Assign"
    if isinstance(component, Arguments):
        return "Arguments"
    if isinstance(component, JSONataTemplateBinding | AssignTemplateBinding):
        return component.identifier
    return None


def field_location() -> str | None:
    """The field being evaluated, from the components on the call stack (outermost first);
    None outside the fields whose location AWS's recordings show."""
    steps: list[str] = []
    seen: set[int] = set()
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, EvalComponent) and id(owner) not in seen:
            seen.add(id(owner))
            step = _step(owner)
            if step is not None:
                steps.append(step)
            if isinstance(owner, CommonStateField):
                break
        frame = frame.f_back  # type: ignore[assignment]
    if not steps or steps[-1] not in ("Output", "Assign", "Arguments"):
        return None
    return "/".join(reversed(steps))


def _fail(env: Environment, expression: str, what: str) -> FailureEventException:
    """Record the EvaluationFailed event of ``expression`` and return the failure to raise."""
    location = field_location()
    where = f" specified for the field '{location}'" if location else ""
    details: dict[str, str] = {"cause": f"The JSONata expression '{expression}'{where} {what}"}
    if location:
        details["location"] = location
    failure = FailureEventException(
        failure_event(
            env,
            StatesErrorNameType.StatesQueryEvaluationError,
            HistoryEventType.EvaluationFailed,
            **details,
        )
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(  # type: ignore[typeddict-item]
            evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()
        ),
    )
    return failure


def _validate_output(env: Environment, expression: str, rich_expression: str, result: Any) -> None:
    if result is None and not aws_jsonata.evaluate(f"$exists({rich_expression})"):
        raise _fail(env, expression, "returned nothing (undefined).")
    state.originals["validate_jsonata_expression_output"](env, expression, rich_expression, result)


def _bindings(env: Environment, expression: str, *, states: bool) -> dict[str, Any]:
    """The values ``expression`` may read, by variable name: the workflow's variables it
    names, and ``$states`` where the state is JSONata."""
    bindings: dict[str, Any] = {"states": env.states._states_data} if states else {}
    for reference in moto_jsonata.extract_jsonata_variable_references(expression):
        name = reference[1:].split(".", 1)[0]
        if name and name not in bindings:
            # Not a variable: a function's name or parameter; or undefined, as on AWS.
            with contextlib.suppress(NoSuchVariable):
                bindings[name] = env.variable_store.get(name)
    return bindings


def _own(value: Any) -> Any:
    """A value of its own: what a state does with it must not change a variable or input."""
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def _string_jsonata_eval_body(self: StringJSONata, env: Environment) -> None:
    """An expression evaluated with the values it refers to bound as its variables (44)."""
    bindings = _bindings(env, self.expression, states=True)
    try:
        result = aws_jsonata.evaluate(self.expression, bindings)
    except aws_jsonata.JSONataError as error:
        raise _fail(env, self.expression, f"threw an error during evaluation. {error}") from None
    if result is None and not aws_jsonata.evaluate(f"$exists(({self.expression}))", bindings):
        raise _fail(env, self.expression, "returned nothing (undefined).")
    env.stack.append(_own(result))


def _variable_sample_eval_body(self: StringVariableSample, env: Environment) -> None:
    """A variable read by a path (``"x.$": "$photo.id"``), its value bound likewise (44)."""
    jsonata_mode = self.query_language_mode == QueryLanguageMode.JSONata
    bindings = _bindings(env, self.expression, states=jsonata_mode)
    env.stack.append(_own(aws_jsonata.evaluate(self.expression, bindings)))


# ----------------------------------------------------------------- 40. variables take effect
# Variables assigned by a state take effect when the state has computed its output: within
# the state (ResultSelector, ResultPath, OutputPath, Output) a variable has its earlier value.
_PENDING = "_photoflow_pending_assignments"


def _assign_eval_body(self: AssignDecl, env: Environment) -> None:
    declarations: dict[str, Any] = getattr(env, _PENDING, None) or {}
    for binding in self.declaration_bindings:
        binding.eval(env=env)
        declarations.update(env.stack.pop())
    setattr(env, _PENDING, declarations)


def _assign_pending(env: Environment) -> None:
    declarations: dict[str, Any] | None = getattr(env, _PENDING, None)
    if declarations:
        setattr(env, _PENDING, None)
        for identifier, value in declarations.items():
            env.variable_store.set(variable_identifier=identifier, variable_value=value)


def _output_then_assign(key: str) -> Any:
    def _eval_state_output(self: CommonStateField, env: Environment) -> None:
        state.originals[key](self, env)
        _assign_pending(env)

    return _eval_state_output


# ----------------------------------------------------------------- 41. $ in a predicate
# The context value ``$`` is refused anywhere in an expression; AWS refuses it at the top
# level only: within a predicate or a function's body (``$states.result[$ = 1]``) it is the
# current item, as recorded in TestState's answers (tests/conformance/cases/test_state).
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}


def nested_items(expression: str) -> list[int]:
    """Where ``$`` stands alone inside brackets or braces (``$$`` and names excluded)."""
    places: list[int] = []
    depth, quote, escaped = 0, "", False
    for index, char in enumerate(expression):
        if quote:
            escaped, quote = (
                (False, quote) if escaped else (char == "\\", "" if char == quote else quote)
            )
        elif char in "\"'":
            quote = char
        elif char in _NESTING:
            depth += _NESTING[char]
        elif char == "$" and depth > 0 and expression[index - 1 : index] != "$":
            following = expression[index + 1 : index + 2]
            if not (following and (following.isalnum() or following in "_$")):
                places.append(index)
    return places


def _variable_references(expression: str) -> set[Any]:
    masked = list(expression)
    for place in nested_items(expression):  # a current item, not a variable
        masked[place] = " "
    references: set[Any] = state.originals["extract_jsonata_variable_references"]("".join(masked))
    return references


# ----------------------------------------------------------------- 45. Assign's literal strings
def _assign_string_literal(self: Preprocessor, ctx: Any) -> AssignTemplateValueTerminalLit:
    """A string in Assign is the JSON string's value: its escapes read (``"say \\"hi\\""`` is
    say "hi"), as everywhere else in a definition."""
    return AssignTemplateValueTerminalLit(value=from_string_literal(ctx.string_literal()))


def _assigned_variables(self: VariableStore) -> dict[str, str]:
    """The variables a state assigned, each as JSON text (a string quoted and escaped)."""
    return {
        name: to_json_str(self.get(name), separators=(",", ":"))
        for name in self._declaration_tracing
    }


def install() -> None:
    replace(VariableStore, "get_assigned_variables", _assigned_variables, "assigned_variables")
    replace(
        Preprocessor,
        "visitAssign_template_value_terminal_string_literal",
        _assign_string_literal,
        "assign_string_literal",
    )
    state.originals["validate_jsonata_expression_output"] = (
        string_expression.validate_jsonata_expression_output
    )
    patch_module_function("validate_jsonata_expression_output", _validate_output)
    replace(StringJSONata, "_eval_body", _string_jsonata_eval_body, "string_jsonata_eval_body")
    replace(StringVariableSample, "_eval_body", _variable_sample_eval_body, "variable_sample_eval")
    replace(AssignDecl, "_eval_body", _assign_eval_body, "assign_eval_body")
    state.originals["extract_jsonata_variable_references"] = (
        moto_jsonata.extract_jsonata_variable_references
    )
    patch_module_function("extract_jsonata_variable_references", _variable_references)
    for owner in (CommonStateField, ExecutionState, StateChoice):
        key = f"{owner.__name__}._eval_state_output"
        replace(owner, "_eval_state_output", _output_then_assign(key), key)
