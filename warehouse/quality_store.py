"""Where quality outcomes are kept: layer quarantine tables, the results history and the
warehouse tables (``quality.silver_rejections``, ``quality.quarantine_summary``,
``quality.quality_results``) that dbt and analysts read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from privacy import pii_types
from privacy.catalog import type_from_name
from quality.gx_runner import SuiteResult
from quality.quarantine import REJECTIONS_SCHEMA, Reconciliation
from warehouse import delta_store
from warehouse.layout import HubPaths
from warehouse.pii_catalog import CATALOG_TABLE, declarations_by_column

RESULTS_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")), ("layer", pa.string()),
    ("table_name", pa.string()), ("expectation", pa.string()), ("severity", pa.string()),
    ("success", pa.bool_()), ("rows_evaluated", pa.int64()), ("rows_failed", pa.int64()),
    ("observed_value", pa.string()),
])


def results_table(run_id: str, results: list[SuiteResult], ts: datetime | None = None) -> pa.Table:
    ts = ts or datetime.now(UTC)
    rows = [
        {"run_id": run_id, "ts": ts, "layer": r.suite.layer, "table_name": r.suite.table_name,
         "expectation": o.name, "severity": o.severity, "success": o.success,
         "rows_evaluated": o.rows_evaluated, "rows_failed": o.rows_failed, "observed_value": o.observed_value}
        for r in results for o in r.results
    ]
    return pa.Table.from_pylist(rows, schema=RESULTS_SCHEMA)


def record_results(paths: HubPaths, run_id: str, results: list[SuiteResult], ts: datetime | None = None) -> int:
    table = results_table(run_id, results, ts)
    delta_store.append(paths.quality_results, table)
    return table.num_rows


@dataclass(frozen=True)
class SilverQuarantine:
    reconciliations: tuple[Reconciliation, ...]
    rejected: int


def _key_sql(key: tuple[str, ...]) -> str:
    return key[0] + "::varchar" if len(key) == 1 else "concat_ws(':', " + ", ".join(key) + ")"


# Parts of a column name that mark a personal value even where no rule names the column
# (customer_name, profile_id); a quarantined payload leaves such columns out.
_PII_NAME_PARTS = {"name", "email", "phone", "mobile", "birth", "street", "address", "postcode", "city",
                   "handle", "profile", "national", "tax", "bio", "text", "body", "subject", "extra"}
# Derived flags and reasons (email_invalid, birth_date_issue) say why a value was dropped, not what it was.
_FLAG_SUFFIXES = ("_invalid", "_issue")


def _catalog_pii(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = CATALOG_TABLE.split(".")
    if not con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, name]).fetchone()[0]:
        return set()
    return {r[0] for r in con.execute(
        f'select "column" from {CATALOG_TABLE} where "table" = ? and pii_type <> ?', [table, pii_types.NONE]).fetchall()}


def withheld_columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[str]]:
    """(columns kept in a quarantined row's payload, personal columns left out). A column is left
    out when the PII catalog, a contract declaration or the catalog's name rules mark it, or when
    its name has a part that names a personal value: quarantine keeps no identifier in clear."""
    columns = [c[0] for c in con.execute(f"select * from {table} limit 0").description]
    declared = declarations_by_column()
    catalog = _catalog_pii(con, table)

    def personal(column: str) -> bool:
        if column.endswith(_FLAG_SUFFIXES) and column not in catalog:
            return False
        return (column in catalog or type_from_name(column) != pii_types.NONE
                or (column in declared and declared[column].pii_type != pii_types.NONE)
                or bool(set(column.strip("_").split("_")) & _PII_NAME_PARTS))

    return [c for c in columns if not personal(c)], [c for c in columns if personal(c)]


def store_silver_quarantine(
    paths: HubPaths, warehouse_db: Path, results: list[SuiteResult], rejections: pa.Table
) -> SilverQuarantine:
    """Route the rejected rows: ``quarantine/silver/<table>`` holds each table's rows that fail now
    (their non-personal values as JSON, the names of the personal columns left out, the failed
    rules and the batch), and ``quality.silver_rejections`` tells dbt which
    rows not to let through. Both are replaced on every run, so a row that passes again (the rule
    or the data was fixed) is released and flows on, and nothing is counted twice."""
    reconciliations = []
    now = datetime.now(UTC)
    with duckdb.connect(str(warehouse_db)) as con:
        con.execute("create schema if not exists quality")
        con.register("rejections_in", rejections.cast(REJECTIONS_SCHEMA))
        con.execute("create or replace table quality.silver_rejections as select * from rejections_in")
        for result in results:
            suite = result.suite
            kept, withheld = withheld_columns(con, suite.table)
            payload = "struct_pack(" + ", ".join(f'"{c}" := t."{c}"' for c in kept) + ")"
            quarantined = con.execute(
                f"""select 'silver' as layer, '{suite.table_name}' as table_name, r.record_key, r.rules,
                       t._batch_id as batch_id, to_json({payload})::varchar as payload,
                       ?::varchar as withheld, ?::timestamptz as quarantined_at
                    from {suite.table} as t
                    join quality.silver_rejections as r
                      on r.table_name = '{suite.table_name}' and r.record_key = {_key_sql(suite.key)}""",
                [";".join(withheld), now],
            ).fetch_arrow_table()
            delta_store.overwrite(paths.layer_quarantine_table("silver", suite.table_name), quarantined)
            rows_in = con.execute(f"select count(*) from {suite.table}").fetchone()[0]
            passed = con.execute(
                f"""select count(*) from {suite.table} where {_key_sql(suite.key)} not in
                    (select record_key from quality.silver_rejections where table_name = '{suite.table_name}')"""
            ).fetchone()[0]
            reconciliations.append(Reconciliation(suite.table_name, rows_in, passed, quarantined.num_rows))
        refresh_summary(con, paths)
    return SilverQuarantine(tuple(reconciliations), rejections.num_rows)


def quarantine_listing(paths: HubPaths) -> pa.Table | None:
    """Every quarantined row of every layer: layer, table, record_key, rules, batch_id, quarantined_at.

    Bronze rows name their source table (``<source>.<entity>``), their position in the delivered file
    as the record key, and the contract rule that rejected them.
    """
    parts = []
    for layer in ("silver", "gold"):
        root = paths.quarantine / layer
        for table_dir in sorted(root.glob("*")) if root.is_dir() else []:
            table = delta_store.read(table_dir, ["layer", "table_name", "record_key", "rules", "batch_id", "quarantined_at"])
            if table is not None and table.num_rows:
                parts.append(table.rename_columns(["layer", "table", "record_key", "rules", "batch_id", "quarantined_at"]))
    con = duckdb.connect()
    for source_dir in sorted(paths.quarantine.glob("*")) if paths.quarantine.is_dir() else []:
        if source_dir.name in ("silver", "gold") or not delta_store.exists(source_dir):
            continue
        con.register("bronze_q", delta_store.read(source_dir))
        parts.append(con.sql(
            f"""select 'bronze' as layer, '{source_dir.name}.' || _entity as "table",
                   coalesce(_source_uri, '') || ':' || _row_number::varchar as record_key,
                   coalesce(_rule, 'contract') as rules, _batch_id as batch_id,
                   _ingested_at as quarantined_at
                from bronze_q"""
        ).to_arrow_table())
    if not parts:
        return None
    return pa.concat_tables([p.cast(parts[0].schema) for p in parts])


def refresh_summary(con: duckdb.DuckDBPyConnection, paths: HubPaths) -> None:
    """``quality.quarantine_summary``: quarantined rows by layer, source table, rule and day."""
    listing = quarantine_listing(paths)
    con.execute("create schema if not exists quality")
    if listing is None:
        con.execute("""create or replace table quality.quarantine_summary
                       (layer varchar, "table" varchar, rule varchar, day date, rows bigint)""")
        return
    con.register("listing", listing)
    con.execute(
        """create or replace table quality.quarantine_summary as
           with by_rule as (
               select layer, "table", unnest(string_split(rules, ';')) as rule, quarantined_at::date as day
               from listing
           )
           select layer, "table", rule, day, count(*) as rows from by_rule group by all order by all"""
    )


def publish_results(con: duckdb.DuckDBPyConnection, paths: HubPaths) -> None:
    """``quality.quality_results`` in the warehouse: the history, as kept in Delta."""
    history = delta_store.read(paths.quality_results)
    con.execute("create schema if not exists quality")
    if history is None:
        history = RESULTS_SCHEMA.empty_table()
    con.register("history", history)
    con.execute("create or replace table quality.quality_results as select * from history")
