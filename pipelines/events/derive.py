"""Customer events derived from the warehouse since the last derivation.

Each topic resumes from its own cursor in the outbox (the ingestion time of the rows it last
read, or for customer.updated the digests of the attributes it last saw). The first derivation
only sets the cursors: events start from then on, history is not replayed. An event's ID is a
digest of what it reports, so deriving the same change twice stores it once. customer.updated
keeps keyed digests of the watched attributes, never their values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from pipelines.events.outbox import Outbox
from pipelines.events.topics import CUSTOMER_ATTRIBUTES
from warehouse.publish import connect_warehouse


def outbox_path(state: Path) -> Path:
    return state / "events" / "outbox.sqlite"


def digest_key(state: Path) -> bytes:
    """The installation's key for attribute digests, created on first use."""
    path = state / "events" / "digest.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def event_id(topic: str, *parts: object) -> str:
    return hashlib.sha256("\x1f".join([topic, *map(str, parts)]).encode()).hexdigest()[:32]


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    rel = con.execute(sql, params)
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? "
                            "and table_name = ?", [schema, table]).fetchone()[0])


# Each query returns the rows after the cursor (?) and a `_mark` column: the topic's next cursor.
DEVICE_ALERTS = """
select t.event_id as reading_id, d.customer_id, t.device_id, d.model, t.ts, t.alerts, t.temp_c,
       t.power_w, t.usage_min, t._ingested_at::varchar as _mark
from staging.stg_iot__telemetry as t
inner join intermediate.int_customer_devices as d using (device_id)
where t.alert_count > 0 and t._ingested_at > ?::timestamptz
order by t._ingested_at, t.event_id
"""
IDENTITY_CHANGES = """
select run_id, event, customer_id, other_customer_id, count(*) as records_moved,
       max(ts) as ts, max(ts)::varchar as _mark
from staging.stg_identity__identity_changes
where event in ('merged', 'split') and ts > ?::timestamp
group by run_id, event, customer_id, other_customer_id
order by max(ts), customer_id
"""
STAGE_CHANGES = """
with versions as (
    select opportunity_id, contact_id, stage, amount, currency, updated_at, _ingested_at,
           lag(stage) over (partition by opportunity_id order by updated_at, _ingested_at) as from_stage
    from staging.stg_crm__opportunity_versions
)
select identity.customer_id, versions.opportunity_id, versions.from_stage,
       versions.stage as to_stage, versions.amount, versions.currency, versions.updated_at,
       versions._ingested_at::varchar as _mark
from versions
left join intermediate.int_identity_current as identity
    on identity.source = 'crm' and identity.source_record_id = versions.contact_id
where versions.from_stage is not null and versions.from_stage <> versions.stage
  and versions._ingested_at > ?::timestamptz
order by versions._ingested_at, versions.opportunity_id
"""
MARKS = {
    "device.alert": ("staging", "stg_iot__telemetry", "select max(_ingested_at)::varchar from staging.stg_iot__telemetry"),
    "identity": ("staging", "stg_identity__identity_changes", "select max(ts)::varchar from staging.stg_identity__identity_changes"),
    "opportunity.stage_changed": ("staging", "stg_crm__opportunity_versions", "select max(_ingested_at)::varchar from staging.stg_crm__opportunity_versions"),
}


def _device_alert(r: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": event_id("device.alert", r["reading_id"]), "topic": "device.alert",
            "occurred_at": _iso(r["ts"]), "customer_id": r["customer_id"], "device_id": r["device_id"],
            "model": r["model"], "ts": _iso(r["ts"]), "alerts": json.loads(r["alerts"] or "[]"),
            "temp_c": r["temp_c"], "power_w": r["power_w"], "usage_min": r["usage_min"]}


def _identity_change(r: dict[str, Any]) -> dict[str, Any]:
    topic = f"customer.{r['event']}"
    other = "merged_customer_id" if r["event"] == "merged" else "split_from_customer_id"
    return {"event_id": event_id(topic, r["run_id"], r["customer_id"], r["other_customer_id"]),
            "topic": topic, "occurred_at": _iso(r["ts"]), "customer_id": r["customer_id"],
            other: r["other_customer_id"], "records_moved": r["records_moved"], "identity_run_id": r["run_id"]}


def _stage_change(r: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": event_id("opportunity.stage_changed", r["opportunity_id"], _iso(r["updated_at"]), r["to_stage"]),
            "topic": "opportunity.stage_changed", "occurred_at": _iso(r["updated_at"]),
            "customer_id": r["customer_id"], "opportunity_id": r["opportunity_id"],
            "from_stage": r["from_stage"], "to_stage": r["to_stage"], "amount": r["amount"],
            "currency": r["currency"]}


STREAMS: list[tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    ("device.alert", DEVICE_ALERTS, _device_alert),
    ("identity", IDENTITY_CHANGES, _identity_change),
    ("opportunity.stage_changed", STAGE_CHANGES, _stage_change),
]


def _customer_updates(con: duckdb.DuckDBPyConnection, outbox: Outbox, key: bytes
                      ) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    if not _exists(con, "marts", "customer_360"):
        return [], []
    columns = ", ".join(CUSTOMER_ATTRIBUTES)
    rows = _rows(con, f"select customer_id, {columns} from marts.customer_360", [])
    before = outbox.digests()
    baseline = not before
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    events, digests = [], []
    for row in rows:
        customer = row["customer_id"]
        changed = {}
        for attribute in CUSTOMER_ATTRIBUTES:
            value = _iso(row[attribute]) if row[attribute] is not None else None
            digest = hmac.new(key, json.dumps([attribute, value]).encode(), "sha256").hexdigest()[:32]
            old = before.get((customer, attribute))
            if old != digest:
                digests.append((customer, attribute, digest))
                if old is not None:
                    changed[attribute] = (value, digest)
        if changed and not baseline:
            events.append({
                "event_id": event_id("customer.updated", customer, *sorted(f"{a}:{d}" for a, (_, d) in changed.items())),
                "topic": "customer.updated", "occurred_at": now, "customer_id": customer,
                "changed": sorted(changed), **{a: v for a, (v, _) in changed.items()},
            })
    return events, digests


def derive(warehouse_db: Path, outbox: Outbox, key: bytes) -> dict[str, int]:
    """Store the events since each topic's cursor in the outbox; returns new events per topic.

    Only the cursors and digests of a committed derivation move: a failure leaves them where
    they were, so the next derivation finds the same events (under the same IDs)."""
    counts: dict[str, int] = {}
    with connect_warehouse(warehouse_db) as con, outbox.transaction() as tx:
        for name, sql, build in STREAMS:
            schema, table, mark_sql = MARKS[name]
            if not _exists(con, schema, table):
                continue
            cursor = outbox.cursor(name)
            if cursor is None:  # the first derivation: from now on
                mark = con.execute(mark_sql).fetchone()[0]
                if mark is not None:
                    outbox.set_cursor(tx, name, mark)
                continue
            rows = _rows(con, sql, [cursor])
            for event in map(build, rows):
                if outbox.add(tx, [event]):
                    counts[event["topic"]] = counts.get(event["topic"], 0) + 1
            if rows:
                outbox.set_cursor(tx, name, max(r["_mark"] for r in rows))
        updates, digests = _customer_updates(con, outbox, key)
        if updates:
            counts["customer.updated"] = outbox.add(tx, updates)
        outbox.set_digests(tx, digests)
    return counts
