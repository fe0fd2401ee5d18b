"""One encrypted DuckDB database per role (per user for sales_rep), published from the warehouse.

Enforcement lives in the file, not in the client: a role's database holds only the rows and
masked columns its policy allows (``privacy.roles``), and it is encrypted under a key of its own
(``warehouse.database.database_key``), so handing an analyst their file and key hands them
nothing else. Each file is built beside its published path and renamed over it, as the
engineers' copy is, and records the digest of the policy it was built under (``_policy``), so a
policy change is seen and re-published.

Layout under ``published/``: ``warehouse.duckdb`` (data_engineer: the full copy),
``<role>.duckdb``, and ``sales_rep/<user>.duckdb``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from privacy.roles import Policy, RolePolicy, check_user, table_query
from warehouse import duckdb_extensions
from warehouse.database import (
    DatabaseFile,
    attach_sql,
    connect,
    go_live,
    publish_database,
    staged_path,
)

POLICY_TABLE = "_policy"
ENGINEER_ROLE = "data_engineer"

# Redacts a list of free texts; the same list of placeholders-in-text comes back.
Redactor = Callable[[Sequence[str | None]], list[str | None]]
# The encryption key of a database file, by its key name (``role/analyst``, ...).
KeyFor = Callable[[str], str]


@dataclass(frozen=True)
class RoleDatabase:
    role: str
    user: str | None
    path: Path
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.role}/{self.user}" if self.user else self.role


def key_name(role: str, user: str | None = None) -> str:
    return f"role/{role}" + (f"/{user}" if user else "")


def role_path(published: Path, role: str, user: str | None = None) -> Path:
    if role == ENGINEER_ROLE:
        return published / "warehouse.duckdb"
    if user is not None:
        return published / role / f"{check_user(user)}.duckdb"
    return published / f"{role}.duckdb"


def role_database(published: Path, role: str, user: str | None, key_for: KeyFor) -> DatabaseFile:
    return DatabaseFile(role_path(published, role, user), key_for(key_name(role, user)))


def users_of(warehouse: DatabaseFile, role: RolePolicy) -> list[str]:
    """The users that get a database of their own (the CRM owners for sales_rep)."""
    assert role.users_sql is not None
    with connect(warehouse) as con:
        found = [r[0] for r in con.execute(f"select * from ({role.users_sql}) order by 1").fetchall()]
    return [check_user(str(u)) for u in found]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, source: str) -> list[str]:
    schema, table = source.split(".")
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position", [catalog, schema, table]).fetchall()]


def _redact_columns(table: pa.Table, columns: Sequence[str], redactor: Redactor) -> pa.Table:
    for column in columns:
        index = table.schema.get_field_index(column)
        values = table.column(column).to_pylist()
        table = table.set_column(index, column, pa.array(redactor(values), pa.string()))
    return table


def publish_role(
    warehouse: DatabaseFile, role: RolePolicy, policy: Policy, target: DatabaseFile,
    redactor: Redactor, user: str | None = None,
) -> RoleDatabase:
    """Build ``target`` for ``role`` (and ``user``) from the warehouse and swap it in."""
    if role.everything:
        publish_database(warehouse, target, finish=lambda con: _stamp(con, policy, role, user))
        return RoleDatabase(role.name, user, target.path, {"tables": _table_count(target)})
    assert role.tables is not None
    target.path.parent.mkdir(parents=True, exist_ok=True)
    staged = DatabaseFile(staged_path(target.path), target.key)
    staged.path.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    try:
        with duckdb_extensions.connect() as con:
            # Under its own name: the warehouse's views name their catalog (``warehouse.staging.x``).
            source = warehouse.alias
            con.execute(attach_sql(warehouse))
            con.execute(attach_sql(staged, "role", read_only=False))
            con.execute(f"use {source}")  # row filters name warehouse tables as schema.table
            for table in role.tables:
                query = table_query(table, _columns(con, source, table.source), user, catalog=source)
                if query.redact:
                    data = _redact_columns(con.execute(query.sql).fetch_arrow_table(), query.redact, redactor)
                    con.register("redacted_rows", data)
                    con.execute(f'create table role.main."{table.name}" as select * from redacted_rows')
                    con.unregister("redacted_rows")
                else:
                    con.execute(f'create table role.main."{table.name}" as {query.sql}')
                rows[table.name] = con.execute(f'select count(*) from role.main."{table.name}"').fetchone()[0]
            con.execute("use role")
            _stamp(con, policy, role, user)
            con.execute("use memory")
            con.execute("detach role")
            con.execute(f"detach {source}")
        with connect(staged) as check:  # a file that does not open under its key is never published
            check.execute(f"select * from {POLICY_TABLE}").fetchone()
        go_live(staged.path, target.path)
    finally:
        staged.path.unlink(missing_ok=True)
        staged.path.with_name(staged.path.name + ".wal").unlink(missing_ok=True)
    return RoleDatabase(role.name, user, target.path, rows)


def _table_count(db: DatabaseFile) -> int:
    with connect(db) as con:
        return con.execute("select count(*) from information_schema.tables where table_catalog = current_database() "
                           f"and table_name <> '{POLICY_TABLE}'").fetchone()[0]


def _stamp(con: duckdb.DuckDBPyConnection, policy: Policy, role: RolePolicy, user: str | None) -> None:
    con.execute(f"create or replace table main.{POLICY_TABLE} as select ?::varchar as role, ?::varchar as user_name, "
                "?::varchar as policy_sha256, ?::timestamptz as published_at",
                [role.name, user, policy.digest, datetime.now(UTC)])


def published_digest(db: DatabaseFile) -> str | None:
    """The policy digest a published role database was built under; None if there is none."""
    if not db.path.exists():
        return None
    with connect(db) as con:
        row = con.execute(f"select policy_sha256 from main.{POLICY_TABLE}").fetchone()
    return row[0] if row else None


def publish_roles(
    warehouse: DatabaseFile, published: Path, policy: Policy, key_for: KeyFor, redactor: Redactor,
    roles: Sequence[str] | None = None,
) -> list[RoleDatabase]:
    """Publish every role's database (or those named); per-user roles get one per user, and the
    files of users who no longer exist are removed."""
    out = []
    cached = _cached(redactor)
    for name in roles or [r for r in policy.roles if r != ENGINEER_ROLE]:
        role = policy.role(name)
        if not role.per_user:
            out.append(publish_role(warehouse, role, policy, role_database(published, name, None, key_for), cached))
            continue
        users = users_of(warehouse, role)
        for user in users:
            target = role_database(published, name, user, key_for)
            out.append(publish_role(warehouse, role, policy, target, cached, user))
        folder = published / name
        for stale in folder.glob("*.duckdb") if folder.is_dir() else []:
            if stale.stem not in users:
                stale.unlink()
    return out


def _cached(redactor: Redactor) -> Redactor:
    """The redactor, remembering what it redacted: the timeline of every rep repeats the analysts'."""
    seen: dict[str, str | None] = {}

    def redact(values: Sequence[str | None]) -> list[str | None]:
        todo = sorted({v for v in values if v is not None and v not in seen})
        if todo:
            seen.update(zip(todo, redactor(todo), strict=True))
        return [None if v is None else seen[v] for v in values]

    return redact
