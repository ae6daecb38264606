"""Reasoning and instruction templates, loaded from YAML and validated."""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rt_grasp_ros.errors import ConfigError

log = logging.getLogger(__name__)

_CATEGORY_NAME = re.compile(r"^[a-z][a-z0-9 _-]*$")
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")


def normalise_category(name: str) -> str:
    """Lower-case, trim, collapse spaces and underscores: ``"Toy_Car "`` -> ``"toy car"``."""
    return re.sub(r"[\s_]+", " ", name.strip().lower())


@dataclass
class TemplateLibrary:
    """Reasoning templates per object category, generic fallbacks and instructions.

    Attributes:
        reasoning: canonical category -> reasoning texts.
        aliases: alternative name -> canonical category.
        generic: fallback texts with a ``{category}`` placeholder.
        instructions: instructions asking for a grasp pose.
    """

    reasoning: dict[str, tuple[str, ...]]
    aliases: dict[str, str]
    generic: tuple[str, ...]
    instructions: tuple[str, ...]
    _warned: set[str] = field(default_factory=set, repr=False)

    def canonical(self, category: str | None) -> str | None:
        """The canonical name of ``category``, or None if it has no templates."""
        if not category:
            return None
        name = normalise_category(category)
        if name in self.reasoning:
            return name
        return self.aliases.get(name)

    def reasoning_options(self, category: str | None) -> tuple[str, ...]:
        """The reasoning texts for ``category``; the generic ones (logged once) if unknown."""
        canonical = self.canonical(category)
        if canonical is not None:
            return self.reasoning[canonical]
        shown = normalise_category(category) if category else "object"
        if shown not in self._warned:
            self._warned.add(shown)
            log.warning("no reasoning templates for category %r; using the generic ones", shown)
        return tuple(t.format(category=shown) for t in self.generic)

    def reasoning_for(self, category: str | None, rng: random.Random) -> str:
        """One reasoning text for ``category``; a generic one (logged once) if unknown."""
        return rng.choice(self.reasoning_options(category))

    def instruction(self, rng: random.Random) -> str:
        """One instruction text."""
        return rng.choice(self.instructions)


def _fail(path: Path, where: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {problem}")


def _text_list(path: Path, where: str, value: Any, min_items: int = 1) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < min_items:
        raise _fail(path, where, f"expected a list of at least {min_items} texts, got {value!r}")
    for i, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, f"{where}[{i}]", f"expected a non-empty text, got {text!r}")
    return tuple(t.strip() for t in value)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read template file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _fail(path, "top level", f"expected a mapping, got {type(data).__name__}")
    if data.get("version") != 1:
        raise _fail(path, "version", f"expected 1, got {data.get('version')!r}")
    return data


def _parse_reasoning(
    path: Path,
) -> tuple[dict[str, tuple[str, ...]], dict[str, str], tuple[str, ...]]:
    data = _load_yaml(path)
    unknown = set(data) - {"version", "generic", "categories"}
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    generic = _text_list(path, "generic", data.get("generic"))
    for i, text in enumerate(generic):
        bad = [p for p in _PLACEHOLDER.findall(text) if p != "category"]
        if bad:
            raise _fail(path, f"generic[{i}]", f"unknown placeholder(s) {bad}; only {{category}}")
    categories = data.get("categories")
    if not isinstance(categories, dict) or not categories:
        raise _fail(path, "categories", "expected a non-empty mapping of category -> entry")
    reasoning: dict[str, tuple[str, ...]] = {}
    aliases: dict[str, str] = {}
    for name, entry in categories.items():
        where = f"categories.{name}"
        if not isinstance(name, str) or not _CATEGORY_NAME.match(name):
            raise _fail(path, where, "category names are lower-case words (a-z, 0-9, space, _ -)")
        if not isinstance(entry, dict) or set(entry) - {"templates", "aliases"}:
            raise _fail(
                path, where, f"expected keys 'templates' and optional 'aliases', got {entry!r}"
            )
        reasoning[name] = _text_list(path, f"{where}.templates", entry.get("templates"))
        for alias in entry.get("aliases", []) or []:
            key = normalise_category(str(alias))
            if key in categories or key in aliases:
                raise _fail(
                    path, f"{where}.aliases", f"alias {alias!r} is already a category or alias"
                )
            aliases[key] = name
    return reasoning, aliases, generic


def _parse_instructions(path: Path) -> tuple[str, ...]:
    data = _load_yaml(path)
    unknown = set(data) - {"version", "instructions"}
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    return _text_list(path, "instructions", data.get("instructions"))


def _packaged(name: str) -> Path:
    return Path(str(resources.files("rt_grasp_ros.prompts") / "data" / name))


def load_templates(
    reasoning_path: str | Path | None = None, instructions_path: str | Path | None = None
) -> TemplateLibrary:
    """Load and validate templates; defaults are the files shipped with the package.

    Every call returns a new library (the shipped files are parsed once), so the warnings a
    library logs once per unknown category are logged once per library, whoever used
    another one before.

    Raises:
        ConfigError: naming the file and the entry that is wrong.
    """
    rpath = Path(reasoning_path) if reasoning_path else None
    ipath = Path(instructions_path) if instructions_path else None
    reasoning, aliases, generic = _parse_reasoning(rpath) if rpath else _shipped_reasoning()
    instructions = _parse_instructions(ipath) if ipath else _shipped_instructions()
    return TemplateLibrary(dict(reasoning), dict(aliases), generic, instructions)


@lru_cache(maxsize=1)
def _shipped_reasoning() -> tuple[dict[str, tuple[str, ...]], dict[str, str], tuple[str, ...]]:
    return _parse_reasoning(_packaged("reasoning_templates.yaml"))


@lru_cache(maxsize=1)
def _shipped_instructions() -> tuple[str, ...]:
    return _parse_instructions(_packaged("instruction_templates.yaml"))
