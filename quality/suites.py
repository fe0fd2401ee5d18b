"""Quality suites as data: one YAML file per table under ``quality/suites/<layer>/``.

Each expectation has a name, a severity (``warn`` or ``error``), an ``expect`` kind (a Great
Expectations expectation, named without its ``expect_`` prefix) with that expectation's own
arguments, and, for row-level rules, a ``quarantine`` flag: failing rows are routed to quarantine
instead of flowing on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUITES_DIR = Path(__file__).parent / "suites"
LAYERS = ("bronze", "silver", "gold")
SEVERITIES = ("warn", "error")
_RESERVED = {"name", "description", "severity", "quarantine", "expect"}


class SuiteError(ValueError):
    """A suite file that does not follow the format; the message names the file and the rule."""


@dataclass(frozen=True)
class Expectation:
    name: str
    expect: str
    severity: str = "error"
    quarantine: bool = False
    description: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    layer: str
    table: str  # schema.table in the warehouse
    key: tuple[str, ...]
    expectations: tuple[Expectation, ...]
    source: str | None = None

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table_name}"

    @property
    def table_name(self) -> str:
        return self.table.split(".")[-1]

    @property
    def quarantining(self) -> tuple[Expectation, ...]:
        return tuple(e for e in self.expectations if e.quarantine)


def _expectation(raw: dict[str, Any], where: str) -> Expectation:
    for required in ("name", "expect"):
        if not raw.get(required):
            raise SuiteError(f"{where}: an expectation lacks '{required}'")
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise SuiteError(f"{where}: rule {raw['name']}: severity must be one of {SEVERITIES}, not {severity!r}")
    return Expectation(
        name=raw["name"],
        expect=raw["expect"],
        severity=severity,
        quarantine=bool(raw.get("quarantine", False)),
        description=raw.get("description", ""),
        arguments={k: v for k, v in raw.items() if k not in _RESERVED},
    )


def load_suite(path: Path, layer: str) -> Suite:
    raw = yaml.safe_load(path.read_text()) or {}
    for required in ("table", "key", "expectations"):
        if not raw.get(required):
            raise SuiteError(f"{path}: missing '{required}'")
    expectations = tuple(_expectation(e, str(path)) for e in raw["expectations"])
    names = [e.name for e in expectations]
    if len(names) != len(set(names)):
        raise SuiteError(f"{path}: rule names repeat: {sorted(n for n in set(names) if names.count(n) > 1)}")
    return Suite(layer=layer, table=raw["table"], key=tuple(raw["key"]), expectations=expectations,
                 source=raw.get("source"))


def load_suites(layer: str | None = None, root: Path = SUITES_DIR) -> list[Suite]:
    """Every suite of ``layer`` (or of all layers), in file-name order."""
    layers = [layer] if layer else list(LAYERS)
    return [load_suite(p, name) for name in layers for p in sorted((root / name).glob("*.yml"))]
