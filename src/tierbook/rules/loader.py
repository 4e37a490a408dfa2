"""Load a rulebook from YAML (a file or a shipped preset) into typed objects, once.

Errors name the YAML path (``ladders.card_tiers.levels[2].min``) and the reason; the
rulebook's hash is taken over its validated, canonical form, so comments and key order in
the file do not change it.

A rulebook may start from a shipped preset with ``extends: <preset>`` and state only what
differs: mappings merge key by key, lists of mappings with an ``id`` (ladders) merge item by
item on that id, and any other value (a list of levels, a number) replaces the parent's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tierbook.rules.models import Rulebook

DEFAULT_PRESET = "bank_default"


class RulebookError(ValueError):
    """A rulebook that cannot be used; ``problems`` lists ``(yaml_path, reason)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {path}: {reason}" for path, reason in problems)
        super().__init__(f"rulebook {source} is invalid:\n{lines}")


@dataclass(frozen=True)
class LoadedRulebook:
    """A validated rulebook with where it came from and its content hash."""

    rulebook: Rulebook
    source: str
    sha256: str

    @property
    def stamp(self) -> dict[str, str]:
        """What every output records about the rules that produced it."""
        rb = self.rulebook
        return {
            "rulebook_id": rb.id,
            "rulebook_version": rb.version,
            "rulebook_sha256": self.sha256,
        }


def preset_names() -> list[str]:
    folder = resources.files("tierbook.rules") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def preset_text(name: str) -> str:
    path = resources.files("tierbook.rules") / "presets" / f"{name}.yaml"
    if not path.is_file():
        raise RulebookError(
            name, [("", f"no preset named {name!r}; known: {', '.join(preset_names())}")]
        )
    return path.read_text(encoding="utf-8")


def load_preset(name: str = DEFAULT_PRESET) -> LoadedRulebook:
    return parse_rulebook(preset_text(name), source=f"preset:{name}")


def load_rulebook(path: str | Path | None) -> LoadedRulebook:
    """Load ``path``; ``None`` gives the default preset; a bare preset name is accepted too."""
    if path is None:
        return load_preset()
    p = Path(path)
    if not p.exists() and str(path) in preset_names():
        return load_preset(str(path))
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulebookError(str(p), [("", f"cannot read file: {exc.strerror}")]) from exc
    return parse_rulebook(text, source=str(p))


def parse_rulebook(text: str, source: str = "<string>") -> LoadedRulebook:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RulebookError(
            source, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
        ) from exc
    if not isinstance(raw, dict):
        raise RulebookError(
            source, [("", "a rulebook is a YAML mapping with id, version, ladders")]
        )
    raw = _resolve_extends(raw, source, seen=())
    try:
        rulebook = Rulebook.model_validate(raw)
    except ValidationError as exc:
        problems = [(_yaml_path(err["loc"], raw), _reason(err)) for err in exc.errors()]
        raise RulebookError(source, problems) from exc
    canonical = json.dumps(rulebook.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return LoadedRulebook(rulebook=rulebook, source=source, sha256=digest)


def _resolve_extends(raw: dict[str, Any], source: str, seen: tuple[str, ...]) -> dict[str, Any]:
    """The rulebook with its ``extends`` chain merged in, parent first."""
    parent_name = raw.get("extends")
    if parent_name is None:
        return raw
    child = {k: v for k, v in raw.items() if k != "extends"}
    if not isinstance(parent_name, str) or parent_name not in preset_names():
        known = ", ".join(preset_names())
        raise RulebookError(
            source, [("extends", f"no preset named {parent_name!r}; known: {known}")]
        )
    if parent_name in seen:
        chain = " → ".join((*seen, parent_name))
        raise RulebookError(source, [("extends", f"presets extend each other in a loop: {chain}")])
    parent = yaml.safe_load(preset_text(parent_name))
    parent = _resolve_extends(parent, f"preset:{parent_name}", (*seen, parent_name))
    merged: dict[str, Any] = _merge(parent, child)
    return merged


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    if _keyed_list(base) and _keyed_list(over):
        by_id = {item["id"]: item for item in base}
        for item in over:
            by_id[item["id"]] = _merge(by_id[item["id"]], item) if item["id"] in by_id else item
        return list(by_id.values())
    return over


def _keyed_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "id" in i for i in value)


def _reason(err: Any) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] == "extra_forbidden":
        return "unknown field"
    return msg


def _yaml_path(loc: tuple[Any, ...], raw: Any) -> str:
    """``("ladders", 0, "levels", 2, "min")`` → ``ladders.card_tiers.levels[2].min``."""
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            item = node[part] if isinstance(node, list) and part < len(node) else None
            if out.endswith("ladders") and isinstance(item, dict) and "id" in item:
                label = f".{item['id']}"
            out += label
            node = item
        else:
            if part == "[key]" or str(part).startswith("function-"):
                continue
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"
