"""The key store: wrapped data keys per subject record, in SQLite, able to forget.

SQLite runs with ``secure_delete`` on, so a deleted or rewritten key is overwritten with zeros
in the database file, not left in a free page; that is what makes ``forget`` a crypto-shred:
every ciphertext of the subject, in any copy of the data, no longer has a key. Every change is
one transaction (``BEGIN IMMEDIATE``), so two processes never create two keys for one subject.

The store knows which master key it is under. It refuses any other, and names a retired one
as retired, so a master key that ``rotate`` replaced opens nothing here.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keys.envelope import DataKey, Subject, unwrap_with, wrap
from privacy.keys.master_key import KEY_BYTES, MasterKey

JOIN_KEY_NAME = "join-hmac"
_ROTATE_CHUNK = 10_000

_SCHEMA = """
create table if not exists data_keys (
    source text not null,
    source_record_id text not null,
    wrapped blob not null,
    master_key_id text not null,
    created_at text not null,
    primary key (source, source_record_id)
) without rowid;
create table if not exists secrets (
    name text primary key,
    wrapped blob not null,
    master_key_id text not null,
    created_at text not null
) without rowid;
create table if not exists master_keys (
    key_id text primary key,
    state text not null check (state in ('active', 'retired')),
    first_used_at text not null,
    retired_at text
) without rowid;
"""


class KeyStoreError(RuntimeError):
    """The key store cannot be used with the master key given."""


class SubjectForgotten(KeyError):
    """The subject has no data key: it was forgotten (or never had one)."""


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    data_keys: int
    secrets: int


@dataclass(frozen=True)
class Status:
    path: Path
    master_key_id: str
    data_keys: int
    retired_master_keys: tuple[str, ...]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class KeyStore:
    def __init__(self, path: Path, master: MasterKey) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # A vault serialises its calls, so a connection opened in one thread may serve a
        # query engine's worker threads (DuckDB calls UDFs from them).
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self._db.execute("pragma secure_delete = on")
        self._db.execute("pragma journal_mode = delete")
        self._db.execute("pragma temp_store = memory")
        try:
            with self._transaction():
                # executescript would commit on its own, outside this transaction.
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                self._adopt(master)
        except BaseException:
            self._db.close()
            raise
        self._use(master)

    @classmethod
    def open(cls, path: Path, master: MasterKey) -> KeyStore:
        return cls(path, master)

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("begin immediate")
        try:
            yield self._db
        except BaseException:
            self._db.execute("rollback")
            raise
        self._db.execute("commit")

    def _use(self, master: MasterKey) -> None:
        self._master = master
        self._aead = AESGCM(master.secret)

    def _adopt(self, master: MasterKey) -> None:
        rows = dict(self._db.execute("select key_id, state from master_keys").fetchall())
        active = [key_id for key_id, state in rows.items() if state == "active"]
        if not active:
            self._db.execute(
                "insert into master_keys values (?, 'active', ?, null)", (master.key_id, _now())
            )
        elif rows.get(master.key_id) == "retired":
            raise KeyStoreError(
                f"master key {master.key_id} was retired by a rotation; the key store {self.path} "
                f"is under master key {active[0]}"
            )
        elif active[0] != master.key_id:
            raise KeyStoreError(
                f"the key store {self.path} is under master key {active[0]}, not {master.key_id} "
                f"(from {master.origin})"
            )

    # Data keys ---------------------------------------------------------------------------------

    def _lookup(self, subjects: list[Subject]) -> dict[Subject, DataKey]:
        self._db.execute(
            "create temp table if not exists wanted (source text, source_record_id text, "
            "primary key (source, source_record_id)) without rowid"
        )
        self._db.execute("delete from wanted")
        self._db.executemany("insert or ignore into wanted values (?, ?)", subjects)
        rows = self._db.execute(
            "select k.source, k.source_record_id, k.wrapped, k.master_key_id from data_keys k "
            "join wanted w using (source, source_record_id)"
        ).fetchall()
        found = {}
        for source, record_id, wrapped, master_key_id in rows:
            subject = Subject(source, record_id)
            found[subject] = DataKey(subject, unwrap_with(self._aead, master_key_id, wrapped, subject))
        return found

    def data_keys(self, subjects: Iterable[Subject]) -> dict[Subject, DataKey]:
        """Each subject's data key, created (and stored, wrapped) for those that have none."""
        wanted = list(dict.fromkeys(Subject(*s) for s in subjects))
        with self._transaction():
            keys = self._lookup(wanted)
            created = []
            for subject in wanted:
                if subject not in keys:
                    secret = secrets.token_bytes(KEY_BYTES)
                    keys[subject] = DataKey(subject, secret)
                    created.append((*subject, wrap(self._master, secret, subject), self._master.key_id, _now()))
            self._db.executemany("insert into data_keys values (?, ?, ?, ?, ?)", created)
        return keys

    def keys_of_source(self, source: str) -> dict[Subject, DataKey]:
        """Every existing data key of one subject source (a bronze table), in one query."""
        rows = self._db.execute(
            "select source_record_id, wrapped, master_key_id from data_keys where source = ?", (source,)
        ).fetchall()
        return {Subject(source, r): DataKey(Subject(source, r), unwrap_with(self._aead, m, w, Subject(source, r)))
                for r, w, m in rows}

    def data_key(self, subject: Subject) -> DataKey:
        return self.data_keys([subject])[Subject(*subject)]

    def existing_keys(self, subjects: Iterable[Subject]) -> dict[Subject, DataKey]:
        """The data keys that exist; forgotten subjects are simply absent. Creates nothing."""
        with self._transaction():
            return self._lookup(list(dict.fromkeys(Subject(*s) for s in subjects)))

    def key_for_decrypt(self, subject: Subject) -> DataKey:
        found = self.existing_keys([subject])
        if not found:
            raise SubjectForgotten(f"{subject.source} record {subject.source_record_id} has no data key")
        return next(iter(found.values()))

    def forget(self, subjects: Iterable[Subject]) -> int:
        """Destroy the subjects' data keys; returns how many existed."""
        with self._transaction():
            cursor = self._db.executemany(
                "delete from data_keys where source = ? and source_record_id = ?",
                [tuple(s) for s in subjects],
            )
            return cursor.rowcount

    # Other secrets -----------------------------------------------------------------------------

    def secret(self, name: str) -> bytes:
        """A named 32-byte secret (such as the join-key HMAC key), created on first use."""
        with self._transaction():
            row = self._db.execute("select wrapped, master_key_id from secrets where name = ?", (name,)).fetchone()
            if row:
                return unwrap_with(self._aead, row[1], row[0], ("secret", name))
            value = secrets.token_bytes(KEY_BYTES)
            self._db.execute(
                "insert into secrets values (?, ?, ?, ?)",
                (name, wrap(self._master, value, ("secret", name)), self._master.key_id, _now()),
            )
            return value

    def join_key(self) -> bytes:
        return self.secret(JOIN_KEY_NAME)

    # Rotation and status -----------------------------------------------------------------------

    def rotate(self, new: MasterKey) -> Rotation:
        """Rewrap every key under ``new`` and retire the current master key; data is untouched."""
        old = self._master
        if new.key_id == old.key_id:
            raise KeyStoreError("the new master key is the current one")
        with self._transaction():
            if self._db.execute("select 1 from master_keys where key_id = ?", (new.key_id,)).fetchone():
                raise KeyStoreError(f"master key {new.key_id} was used before; bring a fresh one")
            data_keys = 0
            after: tuple[str, str] = ("", "")
            while True:
                rows = self._db.execute(
                    "select source, source_record_id, wrapped, master_key_id from data_keys "
                    "where (source, source_record_id) > (?, ?) order by source, source_record_id limit ?",
                    (*after, _ROTATE_CHUNK),
                ).fetchall()
                if not rows:
                    break
                updates = []
                for source, record_id, wrapped, master_key_id in rows:
                    subject = Subject(source, record_id)
                    secret = unwrap_with(self._aead, master_key_id, wrapped, subject)
                    updates.append((wrap(new, secret, subject), new.key_id, source, record_id))
                self._db.executemany(
                    "update data_keys set wrapped = ?, master_key_id = ? where source = ? and source_record_id = ?",
                    updates,
                )
                data_keys += len(rows)
                after = (rows[-1][0], rows[-1][1])
            named = self._db.execute("select name, wrapped, master_key_id from secrets").fetchall()
            for name, wrapped, master_key_id in named:
                secret = unwrap_with(self._aead, master_key_id, wrapped, ("secret", name))
                self._db.execute(
                    "update secrets set wrapped = ?, master_key_id = ? where name = ?",
                    (wrap(new, secret, ("secret", name)), new.key_id, name),
                )
            self._db.execute(
                "update master_keys set state = 'retired', retired_at = ? where key_id = ?", (_now(), old.key_id)
            )
            self._db.execute("insert into master_keys values (?, 'active', ?, null)", (new.key_id, _now()))
        self._use(new)
        return Rotation(old.key_id, new.key_id, data_keys, len(named))

    def status(self) -> Status:
        count = self._db.execute("select count(*) from data_keys").fetchone()[0]
        retired = self._db.execute(
            "select key_id from master_keys where state = 'retired' order by retired_at"
        ).fetchall()
        return Status(self.path, self._master.key_id, count, tuple(r[0] for r in retired))
