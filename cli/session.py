"""What every command needs, resolved lazily: the ledger, who is acting, and the current inspection."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ledger.errors import BadInput, LedgerError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.application import Ledger
    from ledger.config import Located

T = TypeVar("T")


class Session:
    """Lazily opened ledger and settings for one command invocation."""

    def __init__(self, acting_as: str | None = None, inspection: str | None = None) -> None:
        self._acting_as = acting_as
        self._inspection = inspection
        self._located: Located | None = None
        self._ledger: Ledger | None = None

    @property
    def located(self) -> Located:
        if self._located is None:
            from ledger.config import locate

            self._located = locate()
        return self._located

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ledger.application import Ledger

            self._ledger = Ledger(self.located.url)
        return self._ledger

    @property
    def actor(self) -> str:
        """Who is acting: ``--as``, then ``EVIDENCE_USER``, then the config's user."""
        if self._acting_as is not None and not self._acting_as.strip():
            raise BadInput("--as was given an empty name; say who is acting, e.g. --as alice.")
        person = self._acting_as or os.environ.get("EVIDENCE_USER", "").strip() or self.located.config.user
        if not person:
            raise BadInput(
                "Say who is acting with --as PERSON, the EVIDENCE_USER variable, or 'evidence init --user PERSON'."
            )
        return person

    @property
    def viewer(self) -> str:
        """Who is reading, for blind coding rounds: the acting person, or "" when nobody is named (who then sees
        none of an open round's codings)."""
        try:
            return self.actor
        except BadInput:
            return ""

    @property
    def inspection(self) -> str:
        """The inspection in hand: ``--inspection``, then ``EVIDENCE_INSPECTION``, then the config's current one."""
        if self._inspection is not None and not self._inspection.strip():
            raise BadInput("--inspection was given an empty reference; name the inspection, e.g. -i barnet-2017.")
        reference = (
            self._inspection or os.environ.get("EVIDENCE_INSPECTION", "").strip() or self.located.config.inspection
        )
        if not reference:
            raise BadInput(
                "No inspection chosen; pass --inspection REF (-i), or choose one with 'evidence inspection use REF'."
            )
        return reference

    def attempt(self, command: Callable[[], T], tries: int = 4) -> T:
        """Run an append, retrying when another writer got there first (nothing was written on a retry)."""
        for attempt in range(tries):
            try:
                return command()
            except LedgerError as error:
                if not error.retryable or attempt == tries - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def session() -> Session:
    """The current command's session (created by the ``evidence`` group)."""
    return click.get_current_context().find_object(Session)


def out_json(data: Any) -> None:
    """Print plain data as JSON (stable key order, UTF-8)."""
    import msgspec

    click.echo(msgspec.json.format(msgspec.json.encode(data), indent=2).decode())


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def utc_time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """A click callback: an ISO date or time, taken as UTC unless it names its offset."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{value!r} is not a time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[+00:00].") from None
