"""Signal components registered like strategies: the built-ins, then installed packages'
components under the entry-point group ``durationbt.components`` (off with the same switch
as strategies, ``DURATIONBT_DISABLE_PLUGIN_AUTOLOAD``), then the universe's own
``[[signal.custom]]`` ones. What the signal needs loaded is what the selected components
declare (``signal_series``), not a separate list."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.market import SignalSeries
from ..errors import UniverseError, did_you_mean
from ..registry import Registry
from ..universe import SignalSettings, Universe
from .components import BUILTINS, Component
from .custom import csv_component

__all__ = ["ComponentRegistry", "ComponentListing", "discover_components", "select_components",
           "signal_series", "list_components", "COMPONENT_GROUP", "BUILTIN_SOURCE"]

COMPONENT_GROUP = "durationbt.components"
BUILTIN_SOURCE = "built-in"


@dataclass
class ComponentRegistry(Registry[Component]):
    """Signal components keyed by their declared ``name``, each with its source."""

    kind = "component"
    expected = "a durationbt signal Component (declare one with signals.component)"

    def describe(self, item: Component) -> str:
        return "signal component"

    def accept(self, obj: object) -> Component | None:
        return obj if isinstance(obj, Component) else None

    def get(self, name: str) -> Component:
        """The component called ``name``; a UniverseError naming both sources of a clash,
        or suggesting a near name."""
        return self.lookup(name, UniverseError)


def discover_components(*, entry_points_enabled: bool = True) -> ComponentRegistry:
    """The built-in components, then those installed packages register under
    ``durationbt.components`` (unless ``entry_points_enabled`` is False: the CLI passes
    ``DURATIONBT_DISABLE_PLUGIN_AUTOLOAD``'s answer). An installed component joins a
    universe's score only when its ``[signal] components`` names it, so installing a
    package never changes a score."""
    registry = ComponentRegistry()
    for builtin in BUILTINS:
        registry.register(builtin, BUILTIN_SOURCE)
    if entry_points_enabled:
        registry.load_entry_points(COMPONENT_GROUP)
    return registry


def select_components(cfg: SignalSettings, registry: ComponentRegistry | None = None,
                      source: str = "universe") -> list[Component]:
    """The components of ``cfg``'s score in order: those ``components`` names (default:
    every built-in), then the ``[[signal.custom]]`` ones not named there. A custom name
    that is already a registered component, or a name in ``components`` or ``weights`` that
    is no component at all, is a UniverseError naming ``source`` and the field."""
    registry = registry if registry is not None else discover_components()
    custom = {spec.name: spec for spec in cfg.custom}
    for name in custom:
        if name in registry or name in registry.clashes:
            where = registry.source(name) if name in registry else " and ".join(
                registry.clashes[name])
            raise UniverseError(f"{source}: field 'signal.custom.{name}.name': \"{name}\" is "
                                f"already a signal component ({where}); give the "
                                "[[signal.custom]] entry another name.")
    builtins = [c.name for c in BUILTINS]
    names = list(cfg.components) if cfg.components is not None else builtins
    names += [n for n in custom if n not in names]
    known = [*registry, *(n for n in registry.clashes if n not in registry), *custom]
    for field, listed in (("signal.components", names), ("signal.weights", list(cfg.weights))):
        for name in listed:
            if name not in known:
                raise UniverseError(f"{source}: field '{field}' names unknown component "
                                    f'"{name}".' + did_you_mean(name, known)
                                    + f" Components: {', '.join(known)}.")
    return [csv_component(custom[n]) if n in custom else registry.get(n) for n in names]


def signal_series(universe: Universe, registry: ComponentRegistry | None = None) -> SignalSeries:
    """What to load for ``universe``'s signal: the tickers and FRED ids its selected
    components declare, after the extra ones its ``[signal]`` table lists."""
    components = select_components(universe.signal, registry, str(universe.path or universe.name))
    listed = SignalSeries.of_universe(universe)
    tickers = [*listed.tickers, *(t for c in components for t in c.inputs.tickers)]
    fred = [*listed.fred, *(f for c in components for f in c.inputs.fred_ids)]
    return SignalSeries(tuple(dict.fromkeys(tickers)), tuple(dict.fromkeys(fred)), listed.listed)


@dataclass(frozen=True)
class ComponentListing:
    """One line of ``durationbt signal --components``."""

    name: str
    source: str              # "built-in", "entry point ...", or the universe's CSV file
    reads: str
    inputs: str              # tickers and FRED ids with their publication lags
    summary: str             # why higher means scarcer
    weight: float | None     # None: not in this universe's score


def list_components(universe: Universe, registry: ComponentRegistry | None = None
                    ) -> list[ComponentListing]:
    """Every component ``universe`` can use: those in its score first (in score order, with
    their weights), then the other registered ones."""
    registry = registry if registry is not None else discover_components()
    cfg = universe.signal
    used = select_components(cfg, registry, str(universe.path or universe.name))
    custom = {spec.name: spec for spec in cfg.custom}
    rows = []
    for comp in [*used, *(registry.get(n) for n in registry if n not in {c.name for c in used})]:
        in_score = any(c.name == comp.name for c in used)
        spec = custom.get(comp.name)
        source = f"universe ({spec.csv})" if spec else registry.source(comp.name)
        inputs = comp.inputs.describe() or (f"{spec.csv.name}:{spec.column} (+{spec.lag_days}d)"
                                            if spec else "")
        rows.append(ComponentListing(comp.name, source, comp.reads, inputs, comp.summary,
                                     float(cfg.weights.get(comp.name, 1.0)) if in_score else None))
    return rows
