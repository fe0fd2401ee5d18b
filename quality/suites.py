"""Quality suites as data: one YAML file per table under ``quality/suites/<layer>/``.

Each expectation has a name, a severity (``warn`` or ``error``), an ``expect`` kind (a Great
Expectations expectation, named without its ``expect_`` prefix) with that expectation's own
arguments, and, for row-level rules, a ``quarantine`` flag: failing rows are routed to quarantine
instead of flowing on.

Reference data lives beside the suites, in ``quality/suites/reference/``: a list of values
(``value_set: {reference: iso_3166_alpha2}``) or a small table that a rule's query names as
``{reference:device_model_ranges}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUITES_DIR = Path(__file__).parent / "suites"
REFERENCE_DIR = SUITES_DIR / "reference"
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


def _reference(name: str, where: str) -> dict[str, Any]:
    path = REFERENCE_DIR / f"{name}.yml"
    if not path.exists():
        raise SuiteError(f"{where}: unknown reference {name!r} (no {path})")
    return yaml.safe_load(path.read_text()) or {}


def reference_values(name: str, where: str = "suite") -> list[str]:
    """A reference list: one string of values separated by white space (YAML reads some
    country codes, such as NO, as booleans in a list)."""
    return str(_reference(name, where).get("values", "")).split()


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "null" if value is None else str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def reference_sql(name: str, where: str = "suite") -> str:
    """A reference table as a SQL ``values`` list with its declared column names."""
    table = _reference(name, where)
    columns, rows = table.get("columns"), table.get("rows")
    if not columns or not rows or any(len(r) != len(columns) for r in rows):
        raise SuiteError(f"{where}: reference {name!r} needs columns and rows of that many values")
    values = ", ".join("(" + ", ".join(_sql_literal(v) for v in row) + ")" for row in rows)
    return f"(select * from (values {values}) as t({', '.join(columns)}))"


def _resolve(arguments: dict[str, Any], where: str) -> dict[str, Any]:
    resolved = dict(arguments)
    value_set = resolved.get("value_set")
    if isinstance(value_set, dict) and "reference" in value_set:
        resolved["value_set"] = reference_values(value_set["reference"], where)
    query = resolved.get("query")
    if isinstance(query, str):
        for name in re.findall(r"\{reference:(\w+)\}", query):
            query = query.replace(f"{{reference:{name}}}", reference_sql(name, where))
        # GX reads any other brace as a placeholder and fails the rule at run time; say so now.
        if stray := set(re.findall(r"\{[^}]*\}", query)) - {"{batch}"}:
            raise SuiteError(f"{where}: the query may name only {{batch}} and {{reference:NAME}}, not {sorted(stray)}")
        resolved["query"] = query
    return resolved


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
        arguments=_resolve({k: v for k, v in raw.items() if k not in _RESERVED}, f"{where}: rule {raw['name']}"),
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
