"""The after-run summary: rows per table, quarantine, and where to look next."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from hub.sql_cli import engineer_database
from pipelines.environment import hub_paths
from warehouse import delta_store
from warehouse.database import connect
from warehouse.dbt_plugin import register_udfs
from warehouse.layout import HubPaths


def table_counts(paths: HubPaths) -> dict[str, int]:
    counts: dict[str, int] = {}
    for layer in (paths.bronze, paths.silver, paths.gold):
        if not layer.is_dir():
            continue
        for log in sorted(layer.rglob("_delta_log")):
            table = log.parent
            counts[str(table.relative_to(paths.root))] = delta_store.row_count(table)
    return counts


def quarantine_counts(paths: HubPaths) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    if not paths.quarantine.is_dir():
        return out
    for table in sorted(p for p in paths.quarantine.iterdir() if delta_store.exists(p)):
        con = duckdb.connect()
        delta_store.register(con, "q", table)
        rows = con.execute("select _entity || ' / ' || _rule, count(*) from q group by all order by 1").fetchall()
        out[table.name] = {k: v for k, v in rows}
    return out


def warehouse_counts(paths: HubPaths) -> dict[str, int]:
    """Rows per table of the published copy: the working file may be mid-build and locked."""
    if not paths.published_db.exists():
        return {}
    with connect(engineer_database(paths)) as con:
        register_udfs(con)  # staging views call the hub's standardisation UDFs
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema not like 'bronze_%' and table_schema not in ('information_schema', 'pg_catalog') "
            "order by 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def print_summary(paths: HubPaths | None = None) -> None:
    paths = paths or hub_paths()
    print("\nDelta tables (rows):")
    for name, count in table_counts(paths).items():
        print(f"  {name:<44} {count:>10,}")
    print("\nQuarantined rows (entity / rule):")
    quarantine = quarantine_counts(paths)
    if not quarantine:
        print("  none")
    for source, rules in quarantine.items():
        for rule, count in rules.items():
            print(f"  {source + ': ' + rule:<44} {count:>10,}")
    print("\nWarehouse tables and views (rows):")
    counts = warehouse_counts(paths)
    if not counts:
        print("  not published yet: it is published after a successful full run")
    for name, count in counts.items():
        print(f"  {name:<44} {count:>10,}")
    # hub sits beside the interpreter that runs it (.venv/bin), on PATH or not.
    hub = Path(sys.executable).parent / "hub"
    print(f"""
Role databases (encrypted, one per role): {paths.published}
Analysts:        {hub} sql --role analyst -c "select * from customer_360 limit 5"
Data scientists: {hub} sql --role data_scientist
Sales reps:      {hub} sql --role sales_rep --as <CRM owner id>
Engineers:       {hub} sql --role data_engineer
Open the UI:     make ui   ->  http://127.0.0.1:3000
""")
