"""Each published database file has a key of its own in the key store, wrapped by the master
key: a master-key rotation rewraps it, so the file still opens, and the old master opens nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from privacy.keys.keystore import KeyStore, KeyStoreError
from privacy.keys.master_key import MasterKey
from warehouse.database import DatabaseFile, connect, database_key


def test_database_keys_are_distinct_stable_and_survive_a_master_key_rotation(tmp_path: Path) -> None:
    old, new = MasterKey.generate("old"), MasterKey.generate("new")
    store_path = tmp_path / "keys.sqlite"
    with KeyStore.open(store_path, old) as store:
        analyst, scientist = database_key(store, "role/analyst"), database_key(store, "role/data_scientist")
        assert analyst != scientist and database_key(store, "role/analyst") == analyst
        db = DatabaseFile(tmp_path / "analyst.duckdb", analyst)
        with connect(db, read_only=False) as con:
            con.execute("create table t as select 'a***@example.com' as email")
        store.rotate(new)
    assert analyst.encode() not in store_path.read_bytes()
    with pytest.raises(KeyStoreError, match="retired"):
        KeyStore.open(store_path, old)
    with KeyStore.open(store_path, new) as store:
        again = database_key(store, "role/analyst")
    assert again == analyst
    with connect(DatabaseFile(db.path, again)) as con:
        assert con.execute("select email from t").fetchone() == ("a***@example.com",)
    with duckdb.connect() as con, pytest.raises(duckdb.Error, match=r"[Ww]rong encryption key"):
        con.execute(f"attach '{db.path}' as x (encryption_key '{scientist}', read_only)")
