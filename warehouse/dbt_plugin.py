"""dbt-duckdb plugin that registers the hub's standardisation functions as DuckDB UDFs.

Staging SQL calls ``hub_email(email)``, ``hub_phone_e164(phone, country)``,
``hub_clean_name(name)`` and ``hub_pinyin(name)``. Declared in ``dbt/profiles.yml``
as ``plugins: [{module: warehouse.dbt_plugin}]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from identity import handles, standardise

VARCHAR = duckdb.sqltype("VARCHAR")


def _vectorised(fn: Callable[..., str | None], arity: int) -> Callable[..., pa.Array]:
    # DuckDB reads the parameter count off the signature, so no *args here.
    if arity == 1:
        def apply1(a: pa.Array) -> pa.Array:
            return pa.array([fn(x) for x in a.to_pylist()], pa.string())

        return apply1

    def apply2(a: pa.Array, b: pa.Array) -> pa.Array:
        pairs = zip(a.to_pylist(), b.to_pylist(), strict=True)
        return pa.array([fn(x, y) for x, y in pairs], pa.string())

    return apply2


UDFS: dict[str, tuple[Callable[..., Any], int]] = {
    "hub_email": (standardise.email, 1),
    "hub_phone_e164": (standardise.phone_e164, 2),
    "hub_clean_name": (standardise.clean_name, 1),
    "hub_pinyin": (standardise.pinyin, 1),
    "hub_name_from_handle": (handles.name_from_handle, 2),
}


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    for name, (fn, arity) in UDFS.items():
        conn.create_function(
            name, _vectorised(fn, arity), [VARCHAR] * arity, VARCHAR,
            type="arrow", null_handling="special", side_effects=False,
        )


class Plugin(BasePlugin):
    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_udfs(conn)
