"""Where events are stored: one database URL chooses SQLite (the default) or PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def stream(
    select: Callable[[int, int], list[tuple[Any, ...]]], batch: int = 5000, start: int = 0
) -> Iterator[tuple[Any, ...]]:
    """Iterate ``select(after, limit)`` rows in batches, keyed on each row's first column (memory stays flat)."""
    after = start
    while True:
        rows = select(after, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][0]
