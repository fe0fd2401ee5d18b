"""Which input columns a model can use: the ones present and filled.

A file holds whatever columns its system keeps: one has email and phone, another only
names, birth dates and addresses. A column that is absent, or empty in at least
``unused_when_empty`` of the records (the steward's setting, 95% by default), is not used:
no comparison reads it, no blocking rule or training step relies on it, and the run says
so in one line ("email: absent, not used"). Too few values teach training nothing and
make its steps fail for want of pairs; a comparison on them would add nothing but noise.

The threshold is high on purpose. In a warehouse that unions several sources, an
identifier one source keeps is mostly empty and still the best evidence there is: the
demo world's national ID (ERP only) and company are 93% and 92% empty.

Usage is measured on features (``identity/comparison_columns.py``) or on canonical records; both
name the columns alike except the birth date (``dob`` / ``birth_date``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

# Input column -> the columns measured for it, in features or canonical records.
MEASURED: dict[str, tuple[str, ...]] = {
    "name": ("first_name", "last_name", "full_name"),
    "birth_date": ("dob", "birth_date"),
    "email": ("email",),
    "phone": ("phone",),
    "street": ("street",),
    "postcode": ("postcode",),
    "city": ("city",),
    "national_id": ("national_id",),
    "company": ("company",),
    "social_handle": ("social_handle",),
}
# Feature column -> the input column it is derived from.
FEATURE_INPUT: dict[str, str] = {
    "first_name": "name", "last_name": "name", "full_name": "name", "first_name_key": "name",
    "first_name_forms": "name", "name_hanzi": "name", "name_chars": "name",
    "dob": "birth_date", "email": "email", "email_local": "email", "email_work": "email",
    "phone": "phone", "phone_last8": "phone", "street": "street", "postcode": "postcode",
    "city": "city", "national_id": "national_id", "company": "company",
    "social_handle": "social_handle",
}
# Input columns that find candidate pairs on their own (every blocking rule needs one).
IDENTIFYING = ("name", "email", "phone", "national_id", "social_handle")
_CANONICAL_NAMES = {"name": "first_name, last_name or full_name"}


class NoUsableColumns(ValueError):
    """The input has no column that can find candidate pairs; the message names them."""


@dataclass(frozen=True)
class ColumnUsage:
    """Per input column, the share of records without a value, and the threshold."""

    empty: Mapping[str, float]
    unused_when_empty: float
    records: int = 0

    def usable(self, column: str) -> bool:
        return self.empty.get(column, 1.0) < self.unused_when_empty

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(c for c in MEASURED if self.usable(c))

    @property
    def unused(self) -> tuple[str, ...]:
        return tuple(c for c in MEASURED if not self.usable(c))

    def uses_all(self, feature_columns: Iterable[str]) -> bool:
        """Every one of these feature columns comes from a usable input column."""
        return all(self.usable(FEATURE_INPUT[c]) for c in feature_columns)

    def uses_any(self, feature_columns: Iterable[str]) -> bool:
        return any(self.usable(FEATURE_INPUT[c]) for c in feature_columns)

    def lines(self) -> list[str]:
        """One line for what is used, one per column that is not."""
        out = [f"columns used: {', '.join(self.used) or 'none'}"]
        for col in self.unused:
            share = self.empty.get(col, 1.0)
            why = "absent" if share >= 1.0 else f"{min(share, 0.999):.0%} empty"
            out.append(f"{col}: {why}, not used")
        return out

    def as_meta(self) -> dict[str, Any]:
        return {"used": list(self.used), "unused_when_empty": self.unused_when_empty,
                "records": self.records,
                "empty": {c: round(float(v), 4) for c, v in self.empty.items()}}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> ColumnUsage | None:
        if "empty" not in meta or "unused_when_empty" not in meta:
            return None
        return cls(dict(meta["empty"]), float(meta["unused_when_empty"]), int(meta.get("records", 0)))


def measure(frame: pl.DataFrame, unused_when_empty: float) -> ColumnUsage:
    """How empty each input column is in ``frame`` (features or canonical records)."""
    n = frame.height
    exprs = []
    for col, candidates in MEASURED.items():
        present = [c for c in candidates if c in frame.columns]
        filled = pl.any_horizontal(pl.col(c).is_not_null() for c in present) if present else pl.lit(False)
        exprs.append(filled.sum().alias(col))
    counts = frame.select(exprs).row(0, named=True) if n else dict.fromkeys(MEASURED, 0)
    return ColumnUsage({c: 1.0 - (counts[c] or 0) / n if n else 1.0 for c in MEASURED},
                       unused_when_empty, n)


def require_identifying(usage: ColumnUsage) -> None:
    """Raise ``NoUsableColumns`` when records are there but no column that finds candidate
    pairs is usable (no records: nothing to resolve, and nothing wrong)."""
    if usage.records == 0 or any(usage.usable(c) for c in IDENTIFYING):
        return
    looked_for = ", ".join(_CANONICAL_NAMES.get(c, c) for c in IDENTIFYING)
    found = ", ".join(usage.used) or "none"
    raise NoUsableColumns(
        f"no usable identifying column: looked for {looked_for} (each needs values in more "
        f"than {1 - usage.unused_when_empty:.0%} of the records); usable columns found: {found}")
