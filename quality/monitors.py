"""Monitors that compare a table with its own past: volume, freshness, distribution drift (PSI)
and schema drift. Pure functions over numbers and arrays; the caller fetches them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

PSI_WARNING = 0.2
VOLUME_Z_LIMIT = 3.5
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
