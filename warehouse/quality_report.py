"""Gathers the quality report's figures from the data root and writes the HTML page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from quality.report import ReportData, render
from warehouse import delta_store
from warehouse.layout import HubPaths
from warehouse.quality_monitors import latest_monitors
from warehouse.quality_store import quarantine_listing

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


def _monitor_rows(paths: HubPaths) -> tuple[list, list, list]:
    """Freshness, drift and the fired verdicts of the latest monitor run."""
    latest = latest_monitors(paths)
    fresh = [
        (m["subject"], "latest load" if m["metric"] == "load_age_hours" else "source lag behind load",
         "never" if m["value"] is None else f"{m['value']:.1f} h / {m['threshold']:.0f} h", m["fired"])
        for m in latest if m["monitor"] == "freshness"
    ]
    drift = [(m["subject"], m["value"] or 0.0, m["fired"]) for m in latest if m["monitor"] == "drift"]
    drift = sorted(drift, key=lambda d: -d[1])[:DRIFT_FEATURES_LIMIT]
    fired = [(m["monitor"], m["subject"] if m["monitor"] != "volume" else f"{m['subject']} ({m['metric']})",
              m["detail"]) for m in latest if m["fired"] and m["monitor"] not in ("freshness", "drift")]
    return fresh, drift, fired


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
    fresh, drift, fired = _monitor_rows(paths)
    return ReportData(
        generated_at=now.isoformat(timespec="minutes"), scores=scores, trend=trend, top_failing=top,
        quarantine=quarantine, freshness=fresh, drift=drift, monitors=fired,
    )


def write_report(paths: HubPaths, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report_data(paths)))
    return out
