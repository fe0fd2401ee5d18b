"""The outbox: events waiting for delivery, each subscriber's delivery cursor, and the cursors
and digests that derivation resumes from, in one SQLite file under ``state/events``.

An event is stored once under its event ID (derived from what it reports, so deriving the same
change again stores nothing new). A subscriber's cursor moves past an event only after the broker
acknowledged its delivery, so a crash in between delivers it again: at least once, and the
subscriber deduplicates by event ID. Events every subscriber has passed are deleted, so the
values they carried stay here only while in transit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
create table if not exists events (
    seq integer primary key autoincrement,
    event_id text not null unique,
    topic text not null,
    occurred_at text not null,
    payload text not null
);
create table if not exists deliveries (subscriber text primary key, last_seq integer not null);
create table if not exists cursors (name text primary key, value text not null);
create table if not exists digests (
    customer_id text not null, attribute text not null, digest text not null,
    primary key (customer_id, attribute)
);
"""


@dataclass(frozen=True)
class Event:
    seq: int
    event_id: str
    topic: str
    occurred_at: str
    payload: dict[str, Any]


class Outbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Writes open with BEGIN IMMEDIATE, so two derivations take turns rather than interleave.
        self.con = sqlite3.connect(path, isolation_level="IMMEDIATE")
        self.con.execute("pragma journal_mode=wal")
        self.con.executescript(SCHEMA)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: commits when the block ends, rolls back if it raises."""
        with self.con:
            yield self.con

    def add(self, con: sqlite3.Connection, events: Iterable[dict[str, Any]]) -> int:
        """Store new events (each with event_id, topic, occurred_at); returns how many were new."""
        before = con.total_changes
        con.executemany(
            "insert or ignore into events (event_id, topic, occurred_at, payload) values (?, ?, ?, ?)",
            [(e["event_id"], e["topic"], e["occurred_at"], json.dumps(e, default=str)) for e in events])
        return con.total_changes - before

    def cursor(self, name: str) -> str | None:
        row = self.con.execute("select value from cursors where name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_cursor(self, con: sqlite3.Connection, name: str, value: str) -> None:
        con.execute("insert into cursors values (?, ?) on conflict (name) do update set value = excluded.value",
                    (name, value))

    def size(self) -> int:
        return self.con.execute("select count(*) from events").fetchone()[0]

    def pending(self, subscriber: str, limit: int = 1000) -> list[Event]:
        """Events after this subscriber's cursor, oldest first."""
        after = self.delivered(subscriber)
        rows = self.con.execute(
            "select seq, event_id, topic, occurred_at, payload from events where seq > ? order by seq limit ?",
            (after, limit)).fetchall()
        return [Event(s, i, t, o, json.loads(p)) for s, i, t, o, p in rows]

    def delivered(self, subscriber: str) -> int:
        row = self.con.execute("select last_seq from deliveries where subscriber = ?", (subscriber,)).fetchone()
        return row[0] if row else 0

    def mark_delivered(self, subscriber: str, seq: int) -> None:
        with self.transaction() as con:
            con.execute("insert into deliveries values (?, ?) on conflict (subscriber) do update "
                        "set last_seq = max(last_seq, excluded.last_seq)", (subscriber, seq))

    def prune(self, subscribers: Iterable[str]) -> int:
        """Delete the events every subscriber has passed; returns how many."""
        names = list(subscribers)
        if not names:
            return 0
        floor = min(self.delivered(s) for s in names)
        with self.transaction() as con:
            return con.execute("delete from events where seq <= ?", (floor,)).rowcount

    def digests(self) -> dict[tuple[str, str], str]:
        return {(c, a): d for c, a, d in self.con.execute("select customer_id, attribute, digest from digests")}

    def set_digests(self, con: sqlite3.Connection, rows: Iterable[tuple[str, str, str]]) -> None:
        con.executemany("insert into digests values (?, ?, ?) on conflict (customer_id, attribute) "
                        "do update set digest = excluded.digest", list(rows))
