"""Lazy exports for plugin packages: names resolve to their modules on first use.

Every built-in plugin package is imported whenever the plugin manager loads, including on the inspector's
append path, so a package's ``__init__`` must stay cheap; what it exports is imported only when asked for.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[attribute]`` (a module path) on first access."""

    def __getattr__(attribute: str) -> Any:  # noqa: N807 - the module protocol's name
        try:
            module = names[attribute]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}") from None
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package], attribute, value)
        return value

    return __getattr__
