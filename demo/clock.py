"""The simulated clock.

History runs from START to NOW on a fixed calendar, never the wall clock, so that a
seed alone fixes every timestamp in the world. Times are int64 epoch seconds (UTC)
while simulating and become strings only when a source writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

DAY = 86_400


def epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


START = epoch(datetime(2024, 7, 1))
NOW = epoch(datetime(2026, 6, 30))

# Formats per source family: APIs say UTC explicitly, the ERP stores naive local text.
API_TS = "%Y-%m-%dT%H:%M:%SZ"
DB_TS = "%Y-%m-%dT%H:%M:%S"
CSV_TS = "%Y-%m-%d %H:%M:%S"


def fmt(seconds: np.ndarray, pattern: str, name: str = "") -> pl.Series:
    """Format epoch seconds; negative values stand for 'unknown' and become null."""
    s = pl.Series(name, np.asarray(seconds, dtype=np.int64))
    out = pl.from_epoch(s, time_unit="s").dt.strftime(pattern)
    return out.set(s < 0, None).alias(name)  # type: ignore[arg-type]


def fmt_one(seconds: int, pattern: str = API_TS) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime(pattern)


def parse(text: str) -> int:
    """Epoch seconds of an ISO timestamp; naive ones are taken as UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return epoch(moment)


def uniform(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int,
            size: int | None = None) -> np.ndarray:
    """Uniform epoch seconds in [lo, hi); empty spans collapse to lo."""
    lo_a = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo_a, 1)
    n = size if size is not None else np.broadcast(lo_a, span).size
    return lo_a + (rng.random(n) * span).astype(np.int64)
