"""CloudFormation intrinsic functions, resolved the way CloudFormation would.

Enough of the language for translated SAM templates: Ref, Fn::GetAtt, Fn::Sub,
Fn::Join, Fn::If with Conditions, Fn::Select, Fn::Split, Fn::FindInMap,
Fn::Base64 and AWS::NoValue.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedReference(KeyError):
    """A Ref or GetAtt to something the stack does not (yet) have."""


class Resolver:
    def __init__(
        self,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        conditions: dict[str, Any],
        mappings: dict[str, Any] | None = None,
    ) -> None:
        self._ref = ref
        self._get_att = get_att
        self._condition_specs = conditions
        self._conditions: dict[str, bool] = {}
        self._mappings = mappings or {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self._condition_specs[name]))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced; AWS::NoValue entries dropped."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def sub(self, template: str, variables: dict[str, Any] | None = None) -> str:
        variables = variables or {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                return str(self._get_att(logical_id, attribute))
            return str(self._ref(name))

        text = _SUB_VARIABLE.sub(replace, template)
        return text.replace("${!", "${")


def _ref(r: Resolver, name: str) -> Any:
    return NO_VALUE if name == "AWS::NoValue" else r._ref(name)


def _get_att(r: Resolver, argument: Any) -> Any:
    if isinstance(argument, str):
        logical_id, _, attribute = argument.partition(".")
    else:
        logical_id, attribute = argument[0], r.resolve(argument[1])
    return r._get_att(logical_id, attribute)


def _sub(r: Resolver, argument: Any) -> str:
    if isinstance(argument, str):
        return r.sub(argument)
    return r.sub(argument[0], argument[1])


def _join(r: Resolver, argument: Any) -> str:
    delimiter, items = argument
    return str(delimiter).join(str(v) for v in r.resolve(items))


def _if(r: Resolver, argument: Any) -> Any:
    name, when_true, when_false = argument
    return r.resolve(when_true if r.condition(name) else when_false)


def _select(r: Resolver, argument: Any) -> Any:
    index, items = argument
    return r.resolve(items)[int(r.resolve(index))]


def _split(r: Resolver, argument: Any) -> list[str]:
    delimiter, text = argument
    return str(r.resolve(text)).split(delimiter)


def _find_in_map(r: Resolver, argument: Any) -> Any:
    name, top, second = (r.resolve(a) for a in argument)
    return r._mappings[name][top][second]


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": lambda r, a: base64.b64encode(str(r.resolve(a)).encode()).decode(),
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(c) for c in a),
    "Fn::Or": lambda r, a: any(r.resolve(c) for c in a),
    "Condition": lambda r, a: r.condition(a),
}


def references(value: Any) -> set[str]:
    """Logical ids that ``value`` refers to (Ref, GetAtt, Sub variables)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument.split(".")[0] if isinstance(argument, str) else argument[0])
            elif key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                for name in _SUB_VARIABLE.findall(text):
                    if name.strip() not in variables:
                        found.add(name.split(".")[0].strip())
                found |= references(variables)
            else:
                found |= references(argument)
    return {name for name in found if not name.startswith("AWS::")}
