"""The built-in bias checks, in the order they are registered and run."""

from __future__ import annotations

from ledger.contracts import BiasCheck
from plugins.bias.anchoring import Anchoring
from plugins.bias.availability import Availability
from plugins.bias.confirmation import Confirmation
from plugins.bias.deficit import DeficitModel
from plugins.bias.impact import ImpactBlindness
from plugins.bias.overload import DataOverload
from plugins.bias.reliability import UnevenReliability

BUILTIN_CHECKS: tuple[BiasCheck, ...] = (
    DataOverload(), Anchoring(), Availability(), Confirmation(), UnevenReliability(), DeficitModel(),
    ImpactBlindness(),
)
