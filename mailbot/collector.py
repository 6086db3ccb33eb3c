"""The garbage collector paused while a report is built.

A year's bulletin or ledger allocates a million small objects and no reference cycles; the collector's
full passes over them while they pile up took a third of the time. Collection resumes, as before, once
the build returns.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def paused(build: Callable[P, R]) -> Callable[P, R]:
    """`build` run with the collector off (and left as it was found afterwards)."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper
