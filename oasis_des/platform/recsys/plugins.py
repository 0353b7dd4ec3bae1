"""Loading a user's own recommender or embedder from a dotted path in the config."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from typing import Any


def load_object(path: str, *, what: str, known: Iterable[str]) -> Any:
    """The object named by "package.module:Name" or "package.module.Name".

    Raises ValueError naming the path and what went wrong (not a known name, module not
    importable, no such attribute), so a typo in a config file is easy to find.
    """
    names = ", ".join(sorted(known))
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr or not all(
        part.isidentifier() for part in [*module_name.split("."), *attr.split(".")]
    ):
        raise ValueError(
            f"Unknown {what} {path!r}; available: {names}, or a dotted path "
            f"'package.module:Name' to your own {what}."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"Cannot load {what} {path!r}: module {module_name!r}: {exc}") from exc
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ValueError(f"Cannot load {what} {path!r}: {module_name!r} has no {attr!r}.")
        target = getattr(target, part)
    return target


def takes_positional(function: Any, count: int) -> bool:
    """Whether `function`'s signature takes `count` positional arguments, each by a named
    parameter (a bare *args, as in subprocess.run, says nothing about what it expects).
    Plugins are checked this way, never by calling them: a path may name anything."""
    try:
        signature = inspect.signature(function)
        bound = signature.bind(*range(count))
    except (TypeError, ValueError):  # not callable, no signature, or it does not fit
        return False
    variadic = inspect.Parameter.VAR_POSITIONAL
    return all(signature.parameters[p].kind is not variadic for p in bound.arguments)
