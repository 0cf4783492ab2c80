"""Claim kinds, registered like signal components: each kind is data (its name, what it
tests, the model of its fields, the unit of its estimates) plus a check of the names a
claim uses and a scorer. The built-ins live one per module (``regime_spread``,
``sensitivity``, ``outcome``, ``lead``, ``timing``); installed packages add kinds under the
entry-point group ``durationbt.claim_kinds``."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UniverseError
from ..registry import Registry
from . import lead, outcome, regime_spread, sensitivity, timing
from .claim import ClaimKind

__all__ = ["KindRegistry", "discover_kinds", "KIND_GROUP", "BUILTIN_KINDS"]

KIND_GROUP = "durationbt.claim_kinds"
BUILTIN_KINDS: tuple[ClaimKind, ...] = (regime_spread.KIND, sensitivity.KIND, outcome.KIND,
                                        lead.KIND, timing.KIND)


@dataclass
class KindRegistry(Registry[ClaimKind]):
    """Claim kinds keyed by name, each with its source."""

    kind = "claim kind"
    expected = "a durationbt ClaimKind"

    def accept(self, obj: object) -> ClaimKind | None:
        return obj if isinstance(obj, ClaimKind) else None

    def get(self, name: str) -> ClaimKind:
        return self.lookup(name, UniverseError)


def discover_kinds(*, entry_points_enabled: bool = True) -> KindRegistry:
    """The built-in kinds, then those installed packages register under
    ``durationbt.claim_kinds`` (unless ``entry_points_enabled`` is False)."""
    registry = KindRegistry()
    for kind in BUILTIN_KINDS:
        registry.register(kind, "built-in")
    if entry_points_enabled:
        registry.load_entry_points(KIND_GROUP)
    return registry
