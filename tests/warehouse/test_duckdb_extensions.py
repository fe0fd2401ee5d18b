"""The packaged DuckDB extensions: loaded by path, signature-checked, and enough to write an
encrypted database file, scan Delta natively and build a full-text index, all offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from warehouse import duckdb_extensions


def test_httpfs_lets_duckdb_write_an_encrypted_file_that_opens_only_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.duckdb"
    with duckdb_extensions.connect() as con:
        con.execute(f"attach '{path}' as s (encryption_key 'k-1')")
        con.execute("create table s.people as select 'jane.roe@example.com' as email")
        con.execute("detach s")
    assert b"jane.roe@example.com" not in path.read_bytes()
    with duckdb.connect() as con, pytest.raises(duckdb.Error, match="without a key"):
        con.execute(f"attach '{path}' as s (read_only)")
    with duckdb.connect() as con, pytest.raises(duckdb.Error, match=r"[Ww]rong encryption key"):
        con.execute(f"attach '{path}' as s (encryption_key 'k-2', read_only)")
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as s (encryption_key 'k-1', read_only)")
        assert con.execute("select email from s.people").fetchone() == ("jane.roe@example.com",)


def test_without_the_packaged_httpfs_duckdb_refuses_to_write_encrypted(tmp_path: Path) -> None:
    with duckdb.connect(config=duckdb_extensions.SAFE_CONFIG) as con, pytest.raises(
        duckdb.Error, match="read-only crypto module"
    ):
        con.execute(f"attach '{tmp_path / 'x.duckdb'}' as s (encryption_key 'k')")


def test_a_tampered_extension_binary_is_refused(tmp_path: Path) -> None:
    tampered = tmp_path / "fts.duckdb_extension"
    shutil.copyfile(duckdb_extensions.extension_path("fts"), tampered)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with duckdb.connect(config=duckdb_extensions.SAFE_CONFIG) as con, pytest.raises(duckdb.Error, match="signature"):
        con.execute(f"load '{tampered}'")


def test_delta_and_fts_load_offline(tmp_path: Path) -> None:
    write_deltalake(str(tmp_path / "t"), pa.table({"id": [1, 2], "text": ["red fox", "blue whale"]}))
    with duckdb_extensions.connect(extensions=("delta", "fts")) as con:
        assert con.execute(f"select count(*) from delta_scan('{tmp_path / 't'}')").fetchone() == (2,)
        con.execute(f"create table docs as select * from delta_scan('{tmp_path / 't'}')")
        con.execute("pragma create_fts_index('docs', 'id', 'text')")
        hits = con.execute(
            "select id from (select id, fts_main_docs.match_bm25(id, 'whale') as s from docs) where s is not null"
        ).fetchall()
    assert hits == [(2,)]
