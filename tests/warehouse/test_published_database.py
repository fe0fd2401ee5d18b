"""Readers open a published copy of the warehouse: an open session never blocks a build or a
publish, keeps reading what it opened, and a new session sees the new copy. The copy is
encrypted under its own key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from warehouse.database import DatabaseFile, connect, ensure_warehouse, publish_database
from warehouse.layout import HubPaths

# An analyst's session: opens the file read-only, answers a query per line read from stdin.
ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{sys.argv[1]}' as w (encryption_key '{sys.argv[2]}', read_only)")
    for _ in sys.stdin:
        print(con.execute("select sum(amount) from w.marts.orders").fetchone()[0], flush=True)
    """
)


def _build(working: Path, amounts: list[int]) -> None:
    """What dbt does to the working file: a write that needs DuckDB's exclusive lock."""
    with duckdb.connect(str(working)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.orders as select unnest($1::int[]) as amount", [amounts])


def _ask(analyst: subprocess.Popen[str]) -> str:
    assert analyst.stdin is not None and analyst.stdout is not None
    analyst.stdin.write("?\n")
    analyst.stdin.flush()
    return analyst.stdout.readline().strip()


KEY = "published-key"


def _published(hub_paths: HubPaths) -> DatabaseFile:
    return DatabaseFile(hub_paths.published_db, KEY)


def _sum(db: DatabaseFile) -> int:
    with connect(db) as con:
        return con.execute("select sum(amount) from marts.orders").fetchone()[0]


def test_an_open_analyst_session_blocks_neither_the_build_nor_the_publish(hub_paths: HubPaths) -> None:
    working = ensure_warehouse(hub_paths.warehouse_db)
    _build(working, [1, 2])
    publish_database(working, _published(hub_paths))

    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(hub_paths.published_db), KEY],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert _ask(analyst) == "3"
        _build(working, [10, 20, 30])  # would fail with "Could not set lock on file" on the same file
        published = publish_database(working, _published(hub_paths))
        assert published.tables == 1
        assert _ask(analyst) == "3"  # the open session keeps reading the copy it opened
        assert _sum(_published(hub_paths)) == 60  # a new session sees the new copy
    finally:
        analyst.stdin.close()  # type: ignore[union-attr]
        analyst.wait(timeout=10)
    assert analyst.returncode == 0
    assert sorted(p.name for p in hub_paths.published.iterdir()) == ["warehouse.duckdb"]  # no staged copy left


def test_the_published_copy_is_encrypted_and_the_installed_cli_opens_it_with_the_key(hub_paths: HubPaths) -> None:
    working = ensure_warehouse(hub_paths.warehouse_db)
    _build(working, [1, 2])
    with duckdb.connect(str(working)) as con:
        con.execute("create table marts.people as select 'jane.roe@example.com' as email")
    publish_database(working, _published(hub_paths))
    assert b"jane.roe@example.com" not in hub_paths.published_db.read_bytes()
    with duckdb.connect() as con, pytest.raises(duckdb.Error, match="without a key"):
        con.execute(f"attach '{hub_paths.published_db}' as w (read_only)")
    cli = Path(sys.executable).with_name("duckdb")
    out = subprocess.run(
        [str(cli), "-csv"],
        input=f"attach '{hub_paths.published_db}' as w (encryption_key '{KEY}', read_only);\n"
              "select sum(amount) as s from w.marts.orders;\n",
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert out.split() == ["s", "3"]
