"""The ``evidence`` command line. Commands load lazily, so an append imports only what it uses."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from cli.session import Session

#: Command name -> "module:attribute". One module per command group.
COMMANDS: dict[str, str] = {
    "init": "cli.init:init",
    "inspection": "cli.inspection:inspection",
    "member": "cli.inspection:member",
    "stage": "cli.inspection:stage",
    "log": "cli.log:log",
    "verify": "cli.verify:verify",
    "checkpoint": "cli.checkpoint:checkpoint",
    "backup": "cli.backup:backup",
    "plugins": "cli.plugins:plugins",
    "projections": "cli.projections:projections",
    "source": "cli.source:source",
    "note": "cli.source:note",
    "codebook": "cli.code:codebook",
    "code": "cli.code:code",
    "memo": "cli.memo:memo",
    "codings": "cli.retrieval:codings",
    "search": "cli.retrieval:search",
    "coverage": "cli.retrieval:coverage",
    "vignettes": "cli.retrieval:vignettes",
    "hypothesis": "cli.hypothesis:hypothesis",
    "bias": "cli.bias:bias",
    "framework": "cli.framework:framework",
    "judge": "cli.judge:judge",
    "panel": "cli.judge:panel",
    "moderate": "cli.judge:moderate",
    "feedback": "cli.feedback:feedback",
    "replay": "cli.replay:replay",
    "demo": "cli.demo:demo",
    "agreement": "cli.agreement:agreement",
    "calibration": "cli.agreement:calibration",
    "report": "cli.report:report",
    "lint": "cli.lint:lint",
    "annex-a": "cli.annex_a:annex_a",
    "export": "cli.refi:export",
    "import": "cli.refi:import_",
}


def available(spec: str) -> bool:
    """Whether a command's module exists in this installation (lets work in progress leave a name listed)."""
    return importlib.util.find_spec(spec.partition(":")[0]) is not None


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; plugins' commands are looked up last."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        built_in = {name for name, spec in COMMANDS.items() if available(spec)}
        return sorted({*built_in, *self.commands, *_plugin_commands().commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in COMMANDS and available(COMMANDS[cmd_name]):
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            return getattr(importlib.import_module(module), attribute)
        return _plugin_commands().commands.get(cmd_name)


def _plugin_commands() -> click.Group:
    """Commands added by plugins through ``register_commands`` (loading plugins only when needed)."""
    group = click.Group()
    from ledger.pluginmanager import plugin_manager

    plugin_manager().hook.register_commands(cli=group)
    return group


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--as", "acting_as", metavar="PERSON", help="Act as this person (else EVIDENCE_USER, else the config).")
@click.option(
    "-i", "--inspection", metavar="REF", help="The inspection to work on (else EVIDENCE_INSPECTION, else the current one)."
)
@click.version_option(package_name="evidence-ledger", prog_name="evidence")
@click.pass_context
def cli(ctx: click.Context, acting_as: str | None, inspection: str | None) -> None:
    """Evidence Ledger: every piece of evidence, coding and judgment as a tamper-evident event.

    Start with 'evidence init', then 'evidence inspection open REF --authority NAME'.
    """
    ctx.obj = Session(acting_as, inspection)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI: a user mistake prints one line on stderr and exits non-zero, never a traceback."""
    from ledger.errors import LedgerError

    try:
        return cli.main(args=argv, prog_name="evidence", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.UsageError as error:
        # One line, like every other mistake: what was wrong, and where to read how to put it right.
        context = error.ctx.command_path if error.ctx else "evidence"
        click.echo(f"error: {error.format_message()} (see '{context} --help')", err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except LedgerError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except OSError as error:
        if error.filename is None or isinstance(error, BrokenPipeError):
            raise
        # A file or folder the user named cannot be read or written: their environment, not a bug.
        click.echo(f"error: cannot use {error.filename} ({error.strerror}); choose another path.", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing half-written was kept.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
