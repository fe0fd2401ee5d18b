"""Silver-level bad data: rows that honour their source's contract (they land in bronze) but break
a rule of the hub's silver suites, each recorded with the staging table, the business key and the
rule that must quarantine it (``manifest["planted_silver"]``).

Each source draws from a stream of its own, so planting leaves the rest of the world as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from demo import clock
from demo.context import Context

FUTURE_BIRTH_DATE = "2091-03-04"
ANCIENT_BIRTH_DATE = "1887-11-23"  # an age over 120
UNKNOWN_COUNTRY = "QZ"  # user-assigned in ISO 3166, never a country
NEGATIVE_AMOUNT = -4500.0
SENSOR_FAULT_TEMP_C = 412.0


def _rng(ctx: Context, source: str) -> np.random.Generator:
    return ctx.rng(f"silver-planting/{source}")


def _already_planted(ctx: Context, source: str, entity: str) -> set[str]:
    return {p["record_id"] for p in ctx.planted if p["source"] == source and p["entity"] == entity}


def _pick(rng: np.random.Generator, ids: list[str], exclude: set[str], k: int) -> list[str]:
    free = [i for i in ids if i not in exclude]
    return [free[int(i)] for i in np.sort(rng.choice(len(free), min(k, len(free)), replace=False))]


def crm(ctx: Context, con: sqlite3.Connection, contacts: pl.DataFrame, opportunities: pl.DataFrame,
        update_record: Callable[[sqlite3.Connection, str, str, dict[str, object]], None]) -> None:
    """Two contacts with impossible birth dates (one in the future, one 130+ years ago) and an
    opportunity with a negative amount; ``update_record`` is the CRM's own record writer."""
    rng = _rng(ctx, "crm")
    for rid, born in zip(_pick(rng, contacts["id"].to_list(), _already_planted(ctx, "crm", "contacts"), 2),
                         (FUTURE_BIRTH_DATE, ANCIENT_BIRTH_DATE), strict=False):
        update_record(con, "contacts", rid, {"birth_date": born})
        ctx.plant_silver("crm", "contacts", "stg_crm__contacts", rid, "impossible_birth_date",
                         "contact_birth_date_plausible")
    for rid in _pick(rng, opportunities["id"].to_list(), _already_planted(ctx, "crm", "opportunities"), 1):
        update_record(con, "opportunities", rid, {"amount": NEGATIVE_AMOUNT})
        ctx.plant_silver("crm", "opportunities", "stg_crm__opportunities", rid, "negative_amount",
                         "opportunity_amount_not_negative")


def erp(ctx: Context, con: sqlite3.Connection, sales: pl.DataFrame, lines: pl.DataFrame) -> None:
    """An order line whose order does not exist, an invoice dated a year before its order and an
    invoice with a negative amount."""
    if sales.height == 0 or lines.height == 0:
        return
    rng = _rng(ctx, "erp")
    order = sales.row(int(rng.integers(0, sales.height)), named=True)
    line = lines.row(int(rng.integers(0, lines.height)), named=True)
    # A number from the order sequence that no order will ever carry: the order was deleted.
    missing_order = str(ctx.ids("erp/sales_orders", 1, "SO", 9)[0])
    con.execute("INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?)",
                (missing_order, 1, line["sku"], 1, line["unit_price"], line["updated_at"]))
    ctx.count("erp/order_lines", 1)
    ctx.plant_silver("erp", "order_lines", "stg_erp__order_lines", f"{missing_order}-1", "orphan_order_line",
                     "line_order_exists")
    ordered = clock.parse(order["order_date"])
    early, negative = (str(i) for i in ctx.ids("erp/invoices", 2, "INV", 9))
    for invoice_no, when, amount, kind, rule in (
        (early, ordered - 365 * clock.DAY, 100.0, "invoice_before_order", "invoice_not_before_order"),
        (negative, ordered + clock.DAY, -120.0, "negative_amount", "invoice_amount_not_negative"),
    ):
        con.execute("INSERT INTO invoices VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (invoice_no, order["order_no"], order["customer_no"], clock.fmt_one(when, clock.DB_TS),
                     amount, order["currency"], None, order["updated_at"]))
        ctx.count("erp/invoices", 1)
        ctx.plant_silver("erp", "invoices", "stg_erp__invoices", invoice_no, kind, rule)


def iot_registrations(ctx: Context, regs: pl.DataFrame, reregistered: set[str]) -> pl.DataFrame:
    """One device whose owner's country is a code ISO 3166 never assigns to a country."""
    rng = _rng(ctx, "iot")
    serials = sorted(set(regs["serial"].to_list()) - reregistered)
    if not serials:
        return regs
    (serial,) = _pick(rng, serials, set(), 1)
    ctx.plant_silver("iot", "devices", "stg_iot__devices", serial, "unknown_country_code", "device_owner_country_is_iso")
    return regs.with_columns(owner_country=pl.when(pl.col("serial") == serial).then(pl.lit(UNKNOWN_COUNTRY))
                             .otherwise(pl.col("owner_country")))


def _good_line(lines: list[bytes]) -> dict[str, Any] | None:
    for raw in lines:
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if record.get("device_id") and isinstance(record.get("metrics"), dict):
            return record
    return None


def iot_telemetry(ctx: Context, landing: Path) -> None:
    """Appended to the first weekly telemetry file: a reading far outside its device model's
    range (a new event id), and an event id sent a second time with other readings (both copies
    are held: no one can say which is true)."""
    files = sorted(landing.glob("telemetry_*W*.jsonl"))
    if not files:
        return
    path = files[0]
    lines = path.read_bytes().splitlines()
    template = _good_line(lines)
    if template is None:
        return
    hot = {**template, "event_id": str(ctx.ids("iot/telemetry", 1, "EV", 11)[0]),
           "metrics": {**template["metrics"], "temp_c": SENSOR_FAULT_TEMP_C}}
    repeat = {**template, "metrics": {**template["metrics"], "temp_c": round(template["metrics"]["temp_c"] + 0.7, 1)}}
    added = [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() for r in (hot, repeat)]
    path.write_bytes(b"\n".join(lines + added) + b"\n")
    ctx.count("iot/telemetry", len(added))
    ctx.plant_silver("iot", "telemetry", "stg_iot__telemetry", hot["event_id"], "out_of_range_reading",
                     "telemetry_reading_in_range")
    ctx.plant_silver("iot", "telemetry", "stg_iot__telemetry", template["event_id"], "duplicate_business_key",
                     "telemetry_event_id_unique")
