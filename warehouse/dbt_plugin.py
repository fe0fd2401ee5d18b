"""dbt-duckdb plugin that registers the hub's standardisation functions as DuckDB UDFs.

Staging SQL calls these instead of writing its own rules, so a value is standardised
exactly as ``hub identity resolve`` standardises it (``identity.standardise``,
docs/standardisation.md). Declared in ``dbt/profiles.yml`` as
``plugins: [{module: warehouse.dbt_plugin, config: {...}}]``.

It also registers ``hub_decrypt(bronze_table, record_id, field, value)``, which opens what
bronze encrypted (``warehouse.bronze_protection``): staging is where cleartext first exists,
inside the dbt build. The key store is opened once per connection, on the first ciphertext
(a build over test rows never opens it), with the master key the profile's config names
(``data_dir``, ``master_key_file``, ``master_key``; empty means unset, as for the CLI).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from identity import handles, standardise
from privacy.keys.envelope import TEXT_PREFIX, Subject
from privacy.keys.master_key import load_master_key
from privacy.keys.vault import Vault
from warehouse.layout import HubPaths

VARCHAR = duckdb.sqltype("VARCHAR")
DATE = duckdb.sqltype("DATE")


# name -> (function, arity, DuckDB return type)
UDFS: dict[str, tuple[Callable[..., Any], int, Any]] = {
    "hub_clean_name": (standardise.clean_name, 1, VARCHAR),
    "hub_email": (standardise.email, 1, VARCHAR),
    "hub_phone_e164": (standardise.phone_e164, 2, VARCHAR),
    "hub_country": (standardise.country, 1, VARCHAR),
    "hub_national_id": (standardise.national_id, 1, VARCHAR),
    "hub_social_handle": (standardise.social_handle, 1, VARCHAR),
    "hub_date": (standardise.date, 2, DATE),
    "hub_birth_date": (standardise.birth_date, 2, DATE),
    "hub_birth_date_issue": (standardise.birth_date_issue, 2, VARCHAR),
    "hub_name_from_handle": (handles.name_from_handle, 2, VARCHAR),
}


class LazyVault:
    """One vault per connection, opened on first use (thread-safe: DuckDB calls UDFs from its
    worker threads)."""

    def __init__(self, opener: Callable[[], Vault]) -> None:
        self._opener = opener
        self._vault: Vault | None = None
        self._lock = threading.Lock()

    def get(self) -> Vault:
        with self._lock:
            if self._vault is None:
                self._vault = self._opener()
            return self._vault


def decrypt_udf(vault: LazyVault) -> Callable[[str, str, str, str | None], str | None]:
    """``hub_decrypt``: a native function, like the others (see ``register_udfs``); the vault
    loads a bronze table's keys in one query on its first ciphertext, so a value costs a
    dictionary lookup and one AES-GCM open."""

    def hub_decrypt(table: str, record_id: str, field_name: str, value: str | None) -> str | None:
        if value is None or not value.startswith(TEXT_PREFIX):
            return value  # not ciphertext: test rows, or a column written before encryption
        return vault.get().open_one(Subject(table, record_id), field_name, value)

    return hub_decrypt


def register_udfs(conn: duckdb.DuckDBPyConnection, vault: LazyVault | None = None) -> None:
    # Native (row by row), not arrow: DuckDB 1.4's arrow UDFs can free a returned string buffer
    # before the rows are stored when a query runs on several threads ("Invalid unicode (byte
    # sequence mismatch) detected in segment statistics update"). The functions cost more per
    # call than the calling convention does.
    for name, (fn, arity, returns) in UDFS.items():
        conn.create_function(
            name, fn, [VARCHAR] * arity, returns,
            type="native", null_handling="special", side_effects=False,
        )
    if vault is not None:
        conn.create_function("hub_decrypt", decrypt_udf(vault), [VARCHAR] * 4, VARCHAR,
                             type="native", null_handling="special", side_effects=False)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.config = plugin_config

    def _open_vault(self) -> Vault:
        paths = HubPaths(Path(self.config.get("data_dir") or ".hub").resolve())
        master = load_master_key(key_file=self.config.get("master_key_file") or None,
                                 key_value=self.config.get("master_key") or None,
                                 dev_key_path=paths.dev_master_key)
        return Vault.open(paths.key_store, master)

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_udfs(conn, LazyVault(self._open_vault))
