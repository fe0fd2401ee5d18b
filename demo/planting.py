"""Planting bad lines into landing files, and recording exactly where they went."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BadLine:
    after: int          # index of the good line it follows in the original file
    data: bytes
    record_id: str | None
    kind: str
    field: str | None


def dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def truncated(record: dict[str, Any]) -> bytes:
    """A line cut off mid-write, as a crashed exporter leaves it: not parseable JSON."""
    # Cut on characters, not bytes: the file must stay valid UTF-8 around the bad line.
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return text[: max(12, len(text) // 2)].encode()


def pick_rows(rng: np.random.Generator, sizes: list[int], k: int) -> list[tuple[int, int]]:
    """``k`` distinct (file index, row index) pairs drawn uniformly over all rows."""
    total = sum(sizes)
    if total == 0 or k <= 0:
        return []
    flat = np.sort(rng.choice(total, min(k, total), replace=False))
    ends = np.cumsum(sizes)
    files = np.searchsorted(ends, flat, side="right")
    starts = ends - np.asarray(sizes)
    return [(int(f), int(r - starts[f])) for f, r in zip(files, flat, strict=True)]


def splice(lines: list[bytes], bad: list[BadLine]) -> tuple[list[bytes], list[tuple[int, BadLine]]]:
    """Insert bad lines after their template lines; returns 1-based line numbers."""
    out: list[bytes] = []
    placed: list[tuple[int, BadLine]] = []
    done = 0
    for b in sorted(bad, key=lambda b: b.after):
        out.extend(lines[done:b.after + 1])
        done = max(done, b.after + 1)
        out.append(b.data)
        placed.append((len(out), b))
    out.extend(lines[done:])
    return out, placed


def write_lines(path: Any, lines: list[bytes]) -> None:
    with open(path, "wb") as fh:
        fh.write(b"\n".join(lines))
        if lines:
            fh.write(b"\n")
