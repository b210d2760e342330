"""The base of aggregate states: plain objects rebuilt by applying their events in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime
    from uuid import UUID

    from ledger.events import Event

E = TypeVar("E", bound="Event")


def applies(event_class: type[E]) -> Callable[[Callable[[Any, E], None]], Callable[[Any, E], None]]:
    """Mark a method as the way an aggregate changes when ``event_class`` happens."""

    def mark(method: Callable[[Any, E], None]) -> Callable[[Any, E], None]:
        method.__applies__ = event_class  # type: ignore[attr-defined]
        return method

    return mark


class Aggregate:
    """State of one aggregate. Subclasses mark handlers with ``@applies(EventClass)``."""

    _handlers: ClassVar[dict[type, Callable[[Any, Any], None]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                event_class = getattr(value, "__applies__", None)
                if event_class is not None:
                    cls._handlers[event_class] = value

    def __init__(self) -> None:
        self.id: UUID | None = None
        self.version = 0
        self.created_on: datetime | None = None
        self.modified_on: datetime | None = None

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {type(event).TOPIC}.")
        handler(self, event)
        self.id = event.originator_id
        self.version = event.originator_version
        if self.created_on is None:
            self.created_on = event.timestamp
        self.modified_on = event.timestamp

    @classmethod
    def project(cls, state: Self | None, events: Iterable[Event]) -> Self | None:
        """eventsourcing's projector function: fold ``events`` into ``state`` (None: not yet created)."""
        for event in events:
            if state is None:
                state = cls()
            state.apply(event)
        return state

    @classmethod
    def handled(cls) -> tuple[type, ...]:
        """The event classes this aggregate applies (for the event catalogue)."""
        return tuple(cls._handlers)
