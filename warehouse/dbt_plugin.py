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
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from identity import handles, standardise

VARCHAR = duckdb.sqltype("VARCHAR")
DATE = duckdb.sqltype("DATE")


def _vectorised(fn: Callable[..., Any], arity: int, out: pa.DataType) -> Callable[..., pa.Array]:
    # DuckDB reads the parameter count off the signature, so no *args here.
    if arity == 1:
        def apply1(a: pa.Array) -> pa.Array:
            return pa.array([fn(x) for x in a.to_pylist()], out)

        return apply1

    def apply2(a: pa.Array, b: pa.Array) -> pa.Array:
        pairs = zip(a.to_pylist(), b.to_pylist(), strict=True)
        return pa.array([fn(x, y) for x, y in pairs], out)

    return apply2


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
_ARROW = {str(VARCHAR): pa.string(), str(DATE): pa.date32()}


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    for name, (fn, arity, returns) in UDFS.items():
        conn.create_function(
            name, _vectorised(fn, arity, _ARROW[str(returns)]), [VARCHAR] * arity, returns,
            type="arrow", null_handling="special", side_effects=False,
        )


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_udfs(conn)
