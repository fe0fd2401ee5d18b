"""Gathers the quality report's figures from the data root and writes the HTML page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from quality.contracts import CONTRACTS
from quality.monitors import PSI_WARNING, freshness, psi
from quality.report import ReportData, render
from warehouse import delta_store
from warehouse.layout import HubPaths
from warehouse.quality_store import quarantine_listing

FRESHNESS_SLA = timedelta(hours=26)
DRIFT_FEATURES_LIMIT = 12


def _results(con: duckdb.DuckDBPyConnection, paths: HubPaths) -> tuple[list, list, list]:
    history = delta_store.read(paths.quality_results)
    if history is None or history.num_rows == 0:
        return [], [], []
    con.register("results", history)
    latest = """with latest as (
                    select *, row_number() over (partition by layer, table_name, expectation order by ts desc) as n
                    from results)
                select * from latest where n = 1"""
    scores = con.execute(
        f"""select layer, table_name, avg(success::int)::double, count(*) from ({latest})
            group by all order by layer, table_name"""
    ).fetchall()
    trend = con.execute(
        """select strftime(min(ts), '%m-%d %H:%M'), count(*), count(*) filter (where not success)
           from results group by run_id order by min(ts) limit 30"""
    ).fetchall()
    top = con.execute(
        f"""select table_name, expectation, severity, rows_failed from ({latest})
            where not success order by rows_failed desc limit 10"""
    ).fetchall()
    return scores, trend, top


def _freshness(paths: HubPaths, now: datetime) -> list[tuple[str, str, str, bool]]:
    latest: dict[str, datetime | None] = {}
    for contract in CONTRACTS.values():
        path = paths.bronze_table(contract.source, contract.entity)
        table = delta_store.read(path, ["_ingested_at"]) if delta_store.exists(path) else None
        value = max(table.column("_ingested_at").to_pylist(), default=None) if table is not None else None
        previous = latest.get(contract.source)
        latest[contract.source] = max([v for v in (previous, value) if v is not None], default=None)
    rows = []
    for source, when in sorted(latest.items()):
        verdict = freshness(source, when, now, FRESHNESS_SLA)
        age = "never" if verdict.age is None else f"{verdict.age.total_seconds() / 3600:.1f} h"
        rows.append((source, when.isoformat(timespec="minutes") if when else "-", age, verdict.stale))
    return rows


def _drift(paths: HubPaths) -> list[tuple[str, float, bool]]:
    """PSI of each numeric feature: the latest snapshot day against the one 28 days before."""
    path = paths.gold / "customer_features_daily"
    if not delta_store.exists(path):
        return []
    con = duckdb.connect()
    delta_store.register(con, "features", path)
    columns = con.execute("select * from features limit 0").description
    numeric = [c[0] for c in columns if c[0] not in ("customer_id", "as_of_date")
               and str(c[1]).upper() in ("DOUBLE", "BIGINT", "INTEGER", "FLOAT", "HUGEINT")][:DRIFT_FEATURES_LIMIT]
    days = con.execute("select max(as_of_date), max(as_of_date) - interval 28 day from features").fetchone()
    if not numeric or days[0] is None:
        return []
    rows = []
    for feature in numeric:
        current = [v[0] for v in con.execute(f"select {feature}::double from features where as_of_date = ?", [days[0]]).fetchall()]
        reference = [v[0] for v in con.execute(
            f"select {feature}::double from features where as_of_date = (select max(as_of_date) from features where as_of_date <= ?)",
            [days[1]]).fetchall()]
        value = psi([x for x in reference if x is not None], [x for x in current if x is not None])
        rows.append((feature, value, value > PSI_WARNING))
    return rows


def report_data(paths: HubPaths, now: datetime | None = None) -> ReportData:
    now = now or datetime.now(UTC)
    con = duckdb.connect()
    scores, trend, top = _results(con, paths)
    listing = quarantine_listing(paths)
    quarantine = []
    if listing is not None:
        con.register("listing", listing)
        quarantine = con.execute(
            """with by_rule as (select layer, "table", unnest(string_split(rules, ';')) as rule from listing)
               select layer, "table", rule, count(*) from by_rule group by all order by 4 desc, 1, 2, 3"""
        ).fetchall()
    return ReportData(
        generated_at=now.isoformat(timespec="minutes"), scores=scores, trend=trend, top_failing=top,
        quarantine=quarantine, freshness=_freshness(paths, now), drift=_drift(paths),
    )


def write_report(paths: HubPaths, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report_data(paths)))
    return out
