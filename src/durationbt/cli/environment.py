"""The environment variables durationbt honours, read in one place when a command starts
(pydantic-settings, prefix ``DURATIONBT_``) and handed to the library as plain arguments:
below the CLI nothing reads the environment, so a notebook gets exactly what it passes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from ..data.providers import PriceProvider

__all__ = ["Environment", "DATA_ENV", "read_environment"]

DATA_ENV = "DURATIONBT_DATA"


class Environment(BaseSettings):
    """``DURATIONBT_DATA`` (the default ``--data``), ``DURATIONBT_CACHE`` (the cache root,
    else ``$XDG_CACHE_HOME/durationbt``, else ``~/.cache/durationbt``),
    ``DURATIONBT_DISABLE_PLUGIN_AUTOLOAD`` (1/true: ignore strategies installed as entry
    points) and ``DURATIONBT_FUNDAMENTALS`` (the default ``--fundamentals``: the folder of
    user series a thesis names by file)."""

    model_config = SettingsConfigDict(env_prefix="DURATIONBT_", extra="ignore",
                                      env_ignore_empty=True)

    data: Path | None = None
    cache: Path | None = None
    fundamentals: Path | None = None
    disable_plugin_autoload: bool = False
    xdg_cache_home: Path | None = Field(None, validation_alias="XDG_CACHE_HOME")

    @field_validator("data", "cache", "fundamentals")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and value.expanduser().is_file():
            raise ValueError("it is a file; give a folder")
        return value

    @property
    def cache_dir(self) -> Path:
        """The root every online provider and the market cache write below."""
        if self.cache:
            return self.cache.expanduser()
        return (self.xdg_cache_home or Path.home() / ".cache") / "durationbt"

    @property
    def entry_points(self) -> bool:
        """Whether strategies installed by other packages are loaded."""
        return not self.disable_plugin_autoload

    def components(self):
        """The signal components a universe can select: built-ins, and installed ones
        unless ``DURATIONBT_DISABLE_PLUGIN_AUTOLOAD`` is set."""
        from ..signals import discover_components

        return discover_components(entry_points_enabled=self.entry_points)

    def data_folder(self, data: Path | str | None) -> Path | str | None:
        """``--data`` if given, else ``DURATIONBT_DATA`` (None: download from the network)."""
        return data or self.data

    def provider(self, data: Path | str | None) -> PriceProvider:
        """The price provider for ``--data`` (or ``DURATIONBT_DATA``), else Yahoo with FRED
        cached under ``cache_dir``."""
        from ..data.source import resolve_provider

        return resolve_provider(self.data_folder(data), cache_dir=self.cache_dir)


def read_environment() -> Environment:
    """The environment now; a variable with a value that cannot be used is a user error
    naming it (exit 2), not a traceback."""
    from pydantic import ValidationError

    from ..errors import ParameterError

    try:
        return Environment()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper()
        name = name if name == "XDG_CACHE_HOME" else f"DURATIONBT_{name}"
        raise ParameterError(f"Environment variable {name}={first.get('input')!r} cannot be "
                             f"used: {first['msg']}. Fix or unset it.") from exc
