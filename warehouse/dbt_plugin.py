"""dbt-duckdb plugin that registers the hub's standardisation functions as DuckDB UDFs.

Staging SQL calls these instead of writing its own rules, so a value is standardised
exactly as ``hub identity resolve`` standardises it (``identity.standardise``,
docs/standardisation.md). Declared in ``dbt/profiles.yml`` as
``plugins: [{module: warehouse.dbt_plugin}]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from identity import handles, standardise

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


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    # Native (row by row), not arrow: DuckDB 1.4's arrow UDFs can free a returned string buffer
    # before the rows are stored when a query runs on several threads ("Invalid unicode (byte
    # sequence mismatch) detected in segment statistics update"). The functions cost more per
    # call than the calling convention does.
    for name, (fn, arity, returns) in UDFS.items():
        conn.create_function(
            name, fn, [VARCHAR] * arity, returns,
            type="native", null_handling="special", side_effects=False,
        )


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_udfs(conn)
