"""The monitors of ``quality/monitors.yml`` run on the data root: bronze batch and table volumes,
freshness per source, feature drift (PSI, null rate, cardinality) and schema drift. Every verdict
is appended to ``quality/monitors`` (Delta), which is also the volume monitor's history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from quality.contracts import CONTRACTS, EntityContract
from quality.monitors import (
    MonitorResult,
    freshness,
    load_config,
    profile_change,
    psi,
    schema_drift,
    volume,
)
from warehouse import delta_store
from warehouse.layout import HubPaths

MONITOR_SCHEMA = pa.schema([
    # run_seq orders runs even when two share a timestamp (a fixed or coarse clock).
    ("run_id", pa.string()), ("run_seq", pa.int64()), ("ts", pa.timestamp("us", tz="UTC")), ("monitor", pa.string()),
    ("subject", pa.string()), ("metric", pa.string()), ("value", pa.float64()),
    ("threshold", pa.float64()), ("fired", pa.bool_()), ("detail", pa.string()),
])
_NUMERIC = ("DOUBLE", "BIGINT", "INTEGER", "FLOAT", "HUGEINT", "DECIMAL", "SMALLINT", "TINYINT")


def monitor_history_path(paths: HubPaths) -> Path:
    return paths.root / "quality" / "monitors"


def _history(paths: HubPaths, monitor: str, subject: str, metric: str, limit: int) -> list[float]:
    history = delta_store.read(monitor_history_path(paths))
    if history is None or history.num_rows == 0:
        return []
    con = duckdb.connect()
    con.register("h", history)
    rows = con.execute(
        "select value from h where monitor = ? and subject = ? and metric = ? order by run_seq desc limit ?",
        [monitor, subject, metric, limit]).fetchall()
    return [r[0] for r in reversed(rows)]


def _bronze_tables(paths: HubPaths) -> Iterator[tuple[str, EntityContract, Path]]:
    """Each contract's bronze table that exists, by contract name."""
    for name, contract in sorted(CONTRACTS.items()):
        path = paths.bronze_table(contract.source, contract.entity)
        if delta_store.exists(path):
            yield name, contract, path


def batch_volumes(paths: HubPaths, config: dict[str, Any]) -> list[MonitorResult]:
    """Each bronze table's latest batch against the batches before it (the table's own history),
    and each table's row count against the counts the monitor saw on earlier runs."""
    cfg = config.get("volume", {})
    limit, z_limit, min_history = cfg.get("history", 10), cfg.get("z_limit", 3.5), cfg.get("min_history", 3)
    results = []
    con = duckdb.connect()
    for name, _contract, path in _bronze_tables(paths):
        con.register("bronze", delta_store.read(path, ["_batch_id", "_ingested_at"]))
        batches = [r[1] for r in con.execute(
            "select _batch_id, count(*) from bronze group by 1 order by min(_ingested_at), 1").fetchall()]
        con.unregister("bronze")
        if batches:
            verdict = volume(batches[:-1][-limit:], batches[-1], z_limit, min_history)
            results.append(MonitorResult("volume", name, "latest_batch_rows", float(batches[-1]), z_limit,
                                         verdict.anomalous, f"{verdict.direction}: robust z {verdict.robust_z}, "
                                         f"median {verdict.median:g} over {min(len(batches) - 1, limit)} batches"))
        count = sum(batches)
        past = _history(paths, "volume", name, "table_rows", limit)
        verdict = volume([int(v) for v in past], count, z_limit, min_history)
        results.append(MonitorResult("volume", name, "table_rows", float(count), z_limit, verdict.anomalous,
                                     f"{verdict.direction}: robust z {verdict.robust_z} over {len(past)} runs"))
    return results


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def source_freshness(db: Path, config: dict[str, Any], now: datetime) -> list[MonitorResult]:
    """Per source: the age of its latest load against ``load_hours``, and how far the source's own
    newest timestamp lags behind that load against ``lag_hours``."""
    results = []
    if not db.exists():
        return results
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        for source, cfg in sorted(config.get("freshness", {}).items()):
            loads, stamps = [], []
            for table, column in cfg.get("timestamps", {}).items():
                if table in tables:
                    loaded, stamped = con.execute(f"select max(_ingested_at), max({column}) from {table}").fetchone()
                    loads.append(_as_utc(loaded))
                    stamps.append(_as_utc(stamped))
            latest = max((v for v in loads if v is not None), default=None)
            newest = max((v for v in stamps if v is not None), default=None)
            load = freshness(source, latest, now, timedelta(hours=cfg["load_hours"]))
            results.append(MonitorResult(
                "freshness", source, "load_age_hours", None if load.age is None else round(load.age.total_seconds() / 3600, 1),
                float(cfg["load_hours"]), load.stale, f"latest load {latest.isoformat(timespec='minutes') if latest else 'never'}"))
            lag = freshness(source, newest, latest or now, timedelta(hours=cfg["lag_hours"]))
            results.append(MonitorResult(
                "freshness", source, "source_lag_hours", None if lag.age is None else round(lag.age.total_seconds() / 3600, 1),
                float(cfg["lag_hours"]), lag.stale,
                f"newest source timestamp {newest.isoformat(timespec='minutes') if newest else 'none'}"))
    return results


def feature_drift(con: duckdb.DuckDBPyConnection, table: str, config: dict[str, Any]) -> list[MonitorResult]:
    """PSI, null-rate and cardinality change of each numeric column of ``table`` (any relation
    ``con`` can read) on its latest snapshot day against the snapshot ``reference_days`` before."""
    cfg = config.get("drift", {})
    key, day = cfg.get("key", "customer_id"), cfg.get("date_column", "as_of_date")
    columns = con.execute(f"select * from {table} limit 0").description
    numeric = [c[0] for c in columns if c[0] not in (key, day) and str(c[1]).upper().split("(")[0] in _NUMERIC]
    current, reference = con.execute(
        f"""select max({day}), (select max({day}) from {table}
                                 where {day} <= (select max({day}) from {table}) - interval {int(cfg.get('reference_days', 28))} day)
            from {table}""").fetchone()
    if not numeric or current is None or reference is None:
        return []
    results = []
    for feature in numeric:
        now = [r[0] for r in con.execute(f"select {feature}::double from {table} where {day} = ?", [current]).fetchall()]
        before = [r[0] for r in con.execute(f"select {feature}::double from {table} where {day} = ?", [reference]).fetchall()]
        value = psi([x for x in before if x is not None], [x for x in now if x is not None])
        limit = float(cfg.get("psi_warning", 0.2))
        results.append(MonitorResult("drift", feature, "psi", round(value, 4), limit, value > limit,
                                     f"{current} against {reference}"))
        change = profile_change(
            feature, (len(before), sum(x is None for x in before), len({x for x in before if x is not None})),
            (len(now), sum(x is None for x in now), len({x for x in now if x is not None})),
            float(cfg.get("null_rate_change", 0.1)), float(cfg.get("cardinality_change", 0.5)))
        results.append(MonitorResult("profile", feature, "null_rate", change.null_rate_now,
                                     float(cfg.get("null_rate_change", 0.1)), change.null_rate_fired,
                                     f"null rate {change.null_rate_before:.1%} -> {change.null_rate_now:.1%}"))
        results.append(MonitorResult("profile", feature, "distinct", float(change.distinct_now),
                                     float(cfg.get("cardinality_change", 0.5)), change.cardinality_fired,
                                     f"distinct values {change.distinct_before} -> {change.distinct_now}"))
    return results


def bronze_schema_drift(paths: HubPaths) -> list[MonitorResult]:
    """Fields in a bronze table's ``_extra`` that its contract does not declare, by name."""
    results = []
    con = duckdb.connect()
    for name, contract, path in _bronze_tables(paths):
        table = delta_store.read(path)
        if "_extra" not in table.column_names:
            continue
        con.register("bronze", table.select(["_extra"]))
        keys: set[str] = set()
        for (extra,) in con.execute("select distinct _extra from bronze where _extra is not null").fetchall():
            try:
                parsed = json.loads(extra) if isinstance(extra, str) else extra
            except ValueError:
                continue
            if isinstance(parsed, dict):
                keys |= set(parsed)
        con.unregister("bronze")
        new = schema_drift(set(contract.fields), keys)
        results.append(MonitorResult("schema_drift", name, "new_fields", float(len(new)), 0.0, bool(new),
                                     ", ".join(new)))
    return results


def run_monitors(paths: HubPaths, run_id: str, now: datetime | None = None,
                 config: dict[str, Any] | None = None) -> list[MonitorResult]:
    """Every monitor on the data root; the verdicts are appended to the monitor history."""
    now = now or datetime.now(UTC)
    config = config if config is not None else load_config()
    results = batch_volumes(paths, config) + source_freshness(paths.warehouse_db, config, now)
    table = config.get("drift", {}).get("table")
    if table and paths.warehouse_db.exists():
        with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
            schema, name = table.split(".")
            present = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                                  [schema, name]).fetchone()[0]
            if present:
                results += feature_drift(con, table, config)
    results += bronze_schema_drift(paths)
    record_monitors(paths, run_id, results, now)
    return results


def record_monitors(paths: HubPaths, run_id: str, results: list[MonitorResult], ts: datetime) -> None:
    history = delta_store.read(monitor_history_path(paths), ["run_seq"])
    seq = 1 + max((v for v in history.column("run_seq").to_pylist() if v is not None), default=0) if history else 0
    rows = [{"run_id": run_id, "run_seq": seq, "ts": ts, "monitor": r.monitor, "subject": r.subject, "metric": r.metric,
             "value": r.value, "threshold": r.threshold, "fired": r.fired, "detail": r.detail} for r in results]
    delta_store.append(monitor_history_path(paths), pa.Table.from_pylist(rows, schema=MONITOR_SCHEMA))


def latest_monitors(paths: HubPaths) -> list[dict[str, Any]]:
    """The verdicts of the latest monitor run."""
    history = delta_store.read(monitor_history_path(paths))
    if history is None or history.num_rows == 0:
        return []
    con = duckdb.connect()
    con.register("h", history)
    rel = con.execute("""select monitor, subject, metric, value, threshold, fired, detail from h
                         where run_seq = (select max(run_seq) from h)
                         order by monitor, subject, metric""")
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
