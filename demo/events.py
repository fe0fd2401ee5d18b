"""Event times for actors with active windows: a Poisson process per actor."""

from __future__ import annotations

import numpy as np

from demo.clock import DAY


def spread(rng: np.random.Generator, start: np.ndarray, end: np.ndarray,
           per_day: float | np.ndarray, at_least: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(actor index, epoch seconds) of events at ``per_day`` within [start, end).

    ``at_least`` tops up a quiet draw, so that even a tiny world visibly moves on.
    """
    span = np.maximum(np.asarray(end, dtype=np.int64) - start, 0)
    counts = rng.poisson(per_day * span / DAY)
    live = np.flatnonzero(span > 0)
    if counts.sum() < at_least and len(live):
        counts[rng.choice(live, at_least - counts.sum())] += 1
    actor = np.repeat(np.arange(len(span)), counts)
    times = start[actor] + (rng.random(len(actor)) * span[actor]).astype(np.int64)
    return actor, times


def before_churn(rng: np.random.Generator, churned_at: np.ndarray, per_day: float,
                 floor: np.ndarray | int, days: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Extra events in the ``days`` before each churn (complaints, alerts): the signal."""
    churned = churned_at >= 0
    start = np.where(churned, np.maximum(churned_at - days * DAY, floor), 0)
    end = np.where(churned, churned_at, 0)
    return spread(rng, start, end, per_day)


def pick(rng: np.random.Generator, candidates: np.ndarray, share: float,
         at_least: int = 1) -> np.ndarray:
    """Each candidate with probability ``share``, but at least ``at_least`` of them."""
    chosen = candidates[rng.random(len(candidates)) < share]
    if len(chosen) < at_least and len(candidates):
        chosen = np.sort(rng.choice(candidates, min(at_least, len(candidates)), replace=False))
    return chosen


def decline(times: np.ndarray, churned_at: np.ndarray, days: int = 60) -> np.ndarray:
    """Usage factor: 1 normally, falling linearly to 0.2 over the days before churn."""
    left = np.where(churned_at >= 0, (churned_at - times) / (days * DAY), 1.0)
    return np.clip(0.2 + 0.8 * left, 0.2, 1.0)
