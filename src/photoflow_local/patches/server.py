"""moto's server (patch 11): the request dispatcher."""

from __future__ import annotations

import functools

from moto import backends

from photoflow_local.patches.base import replace, state


# ----------------------------------------------------------------- 11. dispatch
@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(state.originals["list_of_moto_modules"]())


def install() -> None:
    replace(backends, "list_of_moto_modules", _moto_modules)
