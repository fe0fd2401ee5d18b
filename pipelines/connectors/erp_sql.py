"""Incremental extraction from a relational ERP by (updated_at, primary key) watermark.

Works on any SQLAlchemy URL (SQLite by default, PostgreSQL tested). The
watermark is a keyset: rows strictly after the last (updated_at, key...) seen,
so nothing is skipped when many rows share one timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from quality.contracts import EntityContract


class ErpDatabaseMissing(FileNotFoundError):
    """The ERP's SQLite file does not exist (a typo in the URL, or no world yet)."""


def connect(url: str) -> sa.Engine:
    """An engine on the ERP at ``url``, which must exist: the hub reads an ERP, never creates one.

    SQLite would create a missing file on first connect, and an empty ERP would look like
    one with no new rows. A SQLite file is therefore checked here and then opened with
    ``mode=rw``, which never creates it; the engine's URL stays the one given, so lineage
    (``_source_uri``) is unchanged. Other databases (PostgreSQL, ...) connect as they are.
    """
    parsed = sa.make_url(url)
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:")
            or database.startswith("file:")):
        return sa.create_engine(url)
    path = Path(database).absolute()
    if not path.is_file():
        raise ErpDatabaseMissing(f"erp: the SQLite database {path} does not exist; nothing was "
                                 "created (check HUB_ERP_URL)")
    target = f"file:{quote(path.as_posix())}?mode=rw"
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "do_connect")
    def _open_existing_only(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        cargs[:] = [target]
        cparams["uri"] = True

    return engine


def _quote(engine: sa.Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def extract(
    engine: sa.Engine,
    contract: EntityContract,
    watermark: list[Any] | None,
    chunk_size: int = 50_000,
) -> Iterator[list[dict[str, Any]]]:
    """Yield chunks of rows (as dicts of every column the table has) after ``watermark``."""
    cursor_field = contract.cursor_field or "updated_at"
    order = [cursor_field, *contract.key]
    q = lambda n: _quote(engine, n)  # noqa: E731
    sql = f"SELECT * FROM {q(contract.entity)}"
    params: dict[str, Any] = {}
    if watermark:
        cols = ", ".join(q(c) for c in order)
        marks = ", ".join(f":w{i}" for i in range(len(order)))
        sql += f" WHERE ({cols}) > ({marks})"
        params = {f"w{i}": v for i, v in enumerate(watermark)}
    sql += " ORDER BY " + ", ".join(q(c) for c in order)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(sa.text(sql), params)
        while chunk := result.mappings().fetchmany(chunk_size):
            yield [dict(row) for row in chunk]


def next_watermark(contract: EntityContract, rows: list[dict[str, Any]]) -> list[Any]:
    """The keyset position of the last row of an ordered chunk."""
    last = rows[-1]
    return [_jsonable(last[c]) for c in (contract.cursor_field or "updated_at", *contract.key)]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
