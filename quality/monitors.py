"""Monitors that compare a table with its own past: volume, freshness, distribution drift (PSI),
null-rate and cardinality change, and schema drift. Pure functions over numbers and arrays; the
caller fetches them. Thresholds and SLAs are declared in ``quality/monitors.yml``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

PSI_WARNING = 0.2
VOLUME_Z_LIMIT = 3.5
# Below this many distinct values a change in cardinality is noise (1 -> 4 is not a signal).
MIN_DISTINCT = 10
# 1.4826 * MAD estimates the standard deviation of normal data.
_MAD_SCALE = 1.4826


@dataclass(frozen=True)
class VolumeVerdict:
    count: int
    median: float
    robust_z: float
    anomalous: bool
    direction: str  # "drop", "spike" or "normal"


def volume(history: Sequence[int], count: int, z_limit: float = VOLUME_Z_LIMIT, min_history: int = 3) -> VolumeVerdict:
    """``count`` against the trailing ``history`` of the same table or batch: a robust z-score
    (median and MAD), so one odd past run does not hide the next one. A flat history (MAD 0)
    uses 5% of its median as the spread."""
    if len(history) < min_history:
        return VolumeVerdict(count, float(count), 0.0, False, "normal")
    values = np.asarray(history, dtype=float)
    median = float(np.median(values))
    spread = _MAD_SCALE * float(np.median(np.abs(values - median))) or max(0.05 * median, 1.0)
    z = (count - median) / spread
    anomalous = abs(z) > z_limit
    return VolumeVerdict(count, median, round(z, 2), anomalous, ("drop" if z < 0 else "spike") if anomalous else "normal")


def psi(reference: Sequence[float] | np.ndarray, current: Sequence[float] | np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` over the reference's
    quantile bins (nulls dropped). Above 0.2 is the usual warning for a shifted feature."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return 0.0
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        edges = np.array([ref[0] - 0.5, ref[0] + 0.5])
    edges[0], edges[-1] = -np.inf, np.inf
    eps = 1e-4
    ref_share = np.histogram(ref, edges)[0] / len(ref) + eps
    cur_share = np.histogram(cur, edges)[0] / len(cur) + eps
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


@dataclass(frozen=True)
class Freshness:
    source: str
    latest: datetime | None
    age: timedelta | None
    sla: timedelta
    stale: bool


def freshness(source: str, latest: datetime | None, now: datetime, sla: timedelta) -> Freshness:
    """A source is stale when nothing landed within its SLA (or nothing ever landed)."""
    age = None if latest is None else now - latest
    return Freshness(source, latest, age, sla, age is None or age > sla)


def schema_drift(declared: set[str], extra_keys: set[str]) -> list[str]:
    """Field names that appeared in a source's ``_extra`` and that its contract does not declare."""
    return sorted(extra_keys - declared)


@dataclass(frozen=True)
class ProfileChange:
    column: str
    null_rate_before: float
    null_rate_now: float
    distinct_before: int
    distinct_now: int
    null_rate_fired: bool
    cardinality_fired: bool

    @property
    def fired(self) -> bool:
        return self.null_rate_fired or self.cardinality_fired


def profile_change(column: str, before: tuple[int, int, int], now: tuple[int, int, int],
                   null_rate_limit: float = 0.10, cardinality_limit: float = 0.5) -> ProfileChange:
    """A column's null rate and distinct count, now against before; each given as (rows, nulls,
    distinct). The null rate fires when it moved by more than ``null_rate_limit`` (absolute share);
    the cardinality when the distinct count changed by more than ``cardinality_limit`` (relative)."""
    rate_before = before[1] / before[0] if before[0] else 0.0
    rate_now = now[1] / now[0] if now[0] else 0.0
    change = abs(now[2] - before[2]) / max(before[2], 1)
    return ProfileChange(column, round(rate_before, 4), round(rate_now, 4), before[2], now[2],
                         abs(rate_now - rate_before) > null_rate_limit,
                         max(before[2], now[2]) >= MIN_DISTINCT and change > cardinality_limit)


@dataclass(frozen=True)
class MonitorResult:
    """One monitor's verdict on one subject (a table, a batch, a source, a feature)."""
    monitor: str  # volume | freshness | drift | profile | schema_drift
    subject: str
    metric: str
    value: float | None
    threshold: float | None
    fired: bool
    detail: str = ""


MONITORS_FILE = Path(__file__).parent / "monitors.yml"


def load_config(path: Path = MONITORS_FILE) -> dict[str, Any]:
    """The monitors' declared thresholds and SLAs (``quality/monitors.yml``)."""
    return yaml.safe_load(path.read_text()) or {}
