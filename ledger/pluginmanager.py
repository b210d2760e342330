"""Load plugins once, built-ins first, and collect what each registers under a unique name.

``DEFAULT_PLUGINS`` names the built-in plugin modules as strings, so the core never imports them
statically. Third-party plugins come from the entry-point group ``evidence_ledger``.

Environment:
- ``EVIDENCE_LOAD_PLUGINS``: comma-separated names of third-party plugins to load (empty: none).
- ``EVIDENCE_TRACE_PLUGINS``: when set, every hook call is written to standard error.
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from ledger import hookspecs
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugins.frameworks",
    "plugins.codebooks",
    "plugins.importers",
    "plugins.language",
    "plugins.bias",
    "plugins.reports",
)

#: Hook name -> what it registers, for messages and the ``plugins`` listing.
REGISTRIES: dict[str, str] = {
    "register_frameworks": "frameworks",
    "register_codebooks": "codebooks",
    "register_importers": "importers",
    "register_report_writers": "report_writers",
    "register_bias_checks": "bias_checks",
    "register_language_rules": "language_rules",
}


class PluginError(LedgerError):
    """A plugin broke the contract (a duplicate name, an unknown hook...)."""

    exit_code = 7


def _load_default(pm: pluggy.PluginManager, name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:  # not written yet in this installation: nothing to register
            return
        raise
    pm.register(module, name=name)


def new_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh plugin manager with the hook contract, the built-ins and (optionally) third parties."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        _load_default(pm, name)
    if load_entry_points:
        _load_entry_points(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"A plugin does not fit the hook contract: {error}") from None
    if os.environ.get("EVIDENCE_TRACE_PLUGINS"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


#: Plugin name -> the version of the distribution that provided it (third-party plugins only).
VERSIONS: dict[str, str] = {}


def _declares_group(group: str) -> bool:
    """Whether any installed distribution's ``entry_points.txt`` names ``group`` (a quick scan of the files).

    Importing ``importlib.metadata`` and reading every distribution's metadata costs more than an inspector's
    whole append; when no installed distribution declares an Evidence Ledger plugin, none of that is needed.
    """
    header = f"[{group}]"
    for entry in sys.path:
        try:
            directory = Path(entry or ".")
            candidates = [*directory.glob("*.dist-info/entry_points.txt"), *directory.glob("*.egg-info/entry_points.txt")]
        except OSError:
            continue
        for candidate in candidates:
            try:
                if header in candidate.read_text(encoding="utf-8", errors="replace"):
                    return True
            except OSError:
                continue
    return False


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    """Register third-party plugins from the ``evidence_ledger`` entry-point group.

    ``importlib.metadata.entry_points(group=...)`` is used rather than pluggy's loader, which reads every installed
    distribution's metadata and costs a hundred milliseconds on each command; and only when some distribution
    declares the group at all.
    """
    if not _declares_group(hookspecs.PROJECT_NAME):
        return
    from importlib.metadata import entry_points

    allowed = os.environ.get("EVIDENCE_LOAD_PLUGINS")
    wanted = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
    for entry_point in entry_points(group=hookspecs.PROJECT_NAME):
        if wanted is not None and entry_point.name not in wanted:
            continue
        if pm.get_plugin(entry_point.name) is not None or pm.is_blocked(entry_point.name):
            continue
        pm.register(entry_point.load(), name=entry_point.name)
        if entry_point.dist is not None:
            VERSIONS[entry_point.name] = entry_point.dist.version


@cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loaded lazily and once."""
    return new_plugin_manager()


class Registered:
    """What one ``register_*`` hook collected: name -> item, and name -> the plugin that supplied it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, Any] = {}
        self.suppliers: dict[str, str] = {}

    def __getitem__(self, name: str) -> Any:
        try:
            return self.items[name]
        except KeyError:
            known = ", ".join(sorted(self.items)) or "none"
            raise PluginError(
                f"No {self.kind.replace('_', ' ')[:-1]} is named {name!r}; known: {known}."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.items

    def __iter__(self):  # noqa: ANN204 - iterate over items in registration order
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)


def collect(pm: pluggy.PluginManager, hook_name: str) -> Registered:
    """Call every implementation of a ``register_*`` hook, built-ins first, refusing duplicate names.

    A plugin may replace an item of another plugin by calling ``register(item, replace=True)``.
    """
    registered = Registered(REGISTRIES[hook_name])
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():  # registration order: built-ins first
        supplier = pm.get_name(impl.plugin) or repr(impl.plugin)

        def register(item: Any, *, replace: bool = False, _supplier: str = supplier) -> None:
            name = getattr(item, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"Plugin {_supplier!r} registered an item with no name: {item!r}.")
            if name in registered.items and not replace:
                raise PluginError(
                    f"Plugin {_supplier!r} registered {registered.kind} item {name!r}, which plugin "
                    f"{registered.suppliers[name]!r} registered already; use a new name, or "
                    "register(item, replace=True) to override it on purpose."
                )
            registered.items[name] = item
            registered.suppliers[name] = _supplier

        if pm.get_hookcallers(impl.plugin) is not None and os.environ.get("EVIDENCE_TRACE_PLUGINS"):
            sys.stderr.write(f"{hook_name} -> {supplier}\n")
        impl.function(register=register)
    return registered


_CACHE: dict[tuple[int, str], Registered] = {}


def registered(hook_name: str, pm: pluggy.PluginManager | None = None) -> Registered:
    """The items registered through ``hook_name``, collected once per plugin manager."""
    pm = pm or plugin_manager()
    key = (id(pm), hook_name)
    if key not in _CACHE:
        _CACHE[key] = collect(pm, hook_name)
    return _CACHE[key]


def guess_importer(filename: str, head: bytes, pm: pluggy.PluginManager | None = None) -> str | None:
    """The importer name the first plugin that recognises the file gives, or None."""
    pm = pm or plugin_manager()
    return pm.hook.guess_importer(filename=filename, head=head)


def describe(pm: pluggy.PluginManager, *, include_builtins: bool) -> list[dict[str, Any]]:
    """Plain data about loaded plugins: name, hooks, version, and what each registered."""
    supplied: dict[str, dict[str, list[str]]] = {}
    for hook_name, kind in REGISTRIES.items():
        reg = registered(hook_name, pm)
        for item_name, supplier in reg.suppliers.items():
            supplied.setdefault(supplier, {}).setdefault(kind, []).append(item_name)
    out = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        builtin = name in DEFAULT_PLUGINS
        if builtin and not include_builtins:
            continue
        hooks: Callable[[], list[str]] = lambda p=plugin: sorted(  # noqa: E731
            caller.name for caller in (pm.get_hookcallers(p) or [])
        )
        out.append(
            {
                "name": name,
                "builtin": builtin,
                "version": VERSIONS.get(name),
                "hooks": hooks(),
                "registered": supplied.get(name, {}),
            }
        )
    return sorted(out, key=lambda d: (not d["builtin"], d["name"]))
