"""What the patches share: the state they keep and how they replace moto's parts."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from moto.stepfunctions.parser.api import (
    HistoryEventType,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

MOTO_VERSION = "5.2.5"
MOCK_CONFIG_ENV = "SFN_MOCK_CONFIG"


class LambdaRuntime(Protocol):
    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]: ...


class MockConfigError(ValueError):
    """A MockConfigFile that cannot drive the requested test case."""


class _State:
    runtime: LambdaRuntime | None = None
    time_scale: float = 1.0
    applied: bool = False
    originals: dict[str, Any] = {}
    pending_mock = threading.local()
    start_lock = threading.Lock()
    registered: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
    # How to put back each of moto's parts a patch replaced, in the order they were replaced.
    undo: list[Callable[[], None]] = []


state = _State()


_DETAILS_OF = {
    HistoryEventType.TaskFailed: "taskFailedEventDetails",
    HistoryEventType.EvaluationFailed: "evaluationFailedEventDetails",
}


def failure_event(
    env: Environment,
    error_type: StatesErrorNameType,
    event_type: HistoryEventType,
    **details: str,
) -> FailureEvent:
    """A failure of the state ``env`` is in, as the interpreter records and raises them."""
    error = StatesErrorName(typ=error_type)
    event_details: Any = {_DETAILS_OF[event_type]: {"error": error.error_name, **details}}
    return FailureEvent(
        env=env, error_name=error, event_type=event_type, event_details=event_details
    )


def service_classes(base: type) -> list[type]:
    found: list[type] = []
    subclass: type
    for subclass in base.__subclasses__():
        found.append(subclass)
        found.extend(service_classes(subclass))
    return found


def set_attribute(owner: Any, attribute: str, value: Any) -> None:
    """Set ``owner.attribute`` (a class's or a module's), remembering how to undo it: the
    owner's own value put back as it was (a staticmethod stays one), or an attribute it
    did not have removed (one that it inherited, or a new action on a responses class)."""
    had = attribute in vars(owner)
    previous = vars(owner).get(attribute)
    setattr(owner, attribute, value)

    def put_back() -> None:
        if had:
            setattr(owner, attribute, previous)
        else:
            delattr(owner, attribute)

    state.undo.append(put_back)


def undo_all() -> None:
    """Put back every part of moto a patch replaced, the last replaced first."""
    while state.undo:
        state.undo.pop()()


def patch_module_function(name: str, replacement: Any) -> None:
    """Replace ``name`` in every interpreter module that imported moto's original."""
    original = state.originals[name]
    for module_name, module in list(sys.modules.items()):
        if (
            module_name.startswith("moto.stepfunctions.parser")
            and getattr(module, name, None) is original
        ):
            set_attribute(module, name, replacement)


def replace(owner: Any, attribute: str, replacement: Any, key: str | None = None) -> None:
    """Set ``owner.attribute`` to ``replacement``, keeping moto's original as ``key``."""
    state.originals[key or attribute] = getattr(owner, attribute)
    set_attribute(owner, attribute, replacement)
