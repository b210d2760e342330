"""``evidence plugins``: what plugins are loaded and what each registered, as JSON."""

from __future__ import annotations

import click

from cli.session import out_json


@click.command()
@click.option("--all", "include_builtins", is_flag=True, help="Include the built-in plugins.")
def plugins(include_builtins: bool) -> None:
    """List loaded plugins (third-party only, unless --all) as JSON."""
    from ledger.pluginmanager import describe, plugin_manager

    out_json(describe(plugin_manager(), include_builtins=include_builtins))
