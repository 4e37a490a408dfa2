"""Rulebooks: typed models, shipped presets and the loader."""

from tierbook.rules.loader import (
    DEFAULT_PRESET,
    LoadedRulebook,
    RulebookError,
    load_preset,
    load_rulebook,
    parse_rulebook,
    preset_names,
)
from tierbook.rules.models import AssetClass, Ladder, Level, Role, Rulebook

__all__ = [
    "DEFAULT_PRESET",
    "AssetClass",
    "Ladder",
    "Level",
    "LoadedRulebook",
    "Role",
    "Rulebook",
    "RulebookError",
    "load_preset",
    "load_rulebook",
    "parse_rulebook",
    "preset_names",
]
