"""Analysts read a published copy of the warehouse: an open session never blocks a build or a
publish, keeps reading what it opened, and a new session sees the new copy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from warehouse.database import ensure_warehouse, publish_database
from warehouse.layout import HubPaths

# An analyst's session: opens the file read-only, answers a query per line read from stdin.
ANALYST = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    for _ in sys.stdin:
        print(con.execute("select sum(amount) from marts.orders").fetchone()[0], flush=True)
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


def _sum(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select sum(amount) from marts.orders").fetchone()[0]


def test_an_open_analyst_session_blocks_neither_the_build_nor_the_publish(hub_paths: HubPaths) -> None:
    working = ensure_warehouse(hub_paths.warehouse_db)
    _build(working, [1, 2])
    publish_database(working, hub_paths.published_db)

    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(hub_paths.published_db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert _ask(analyst) == "3"
        _build(working, [10, 20, 30])  # would fail with "Could not set lock on file" on the same file
        published = publish_database(working, hub_paths.published_db)
        assert published.tables == 1
        assert _ask(analyst) == "3"  # the open session keeps reading the copy it opened
        assert _sum(hub_paths.published_db) == 60  # a new session sees the new copy
    finally:
        analyst.stdin.close()  # type: ignore[union-attr]
        analyst.wait(timeout=10)
    assert analyst.returncode == 0
    assert sorted(p.name for p in hub_paths.published.iterdir()) == ["warehouse.duckdb"]  # no staged copy left


def test_the_duckdb_cli_installed_with_the_hub_opens_the_published_copy(hub_paths: HubPaths) -> None:
    working = ensure_warehouse(hub_paths.warehouse_db)
    _build(working, [1, 2])
    publish_database(working, hub_paths.published_db)
    cli = Path(sys.executable).with_name("duckdb")
    out = subprocess.run(
        [str(cli), "-readonly", "-csv", str(hub_paths.published_db), "select sum(amount) as s from marts.orders"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert out.split() == ["s", "3"]
