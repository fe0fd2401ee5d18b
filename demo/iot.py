"""Connected devices: warranty registrations as monthly CSVs, telemetry as JSONL batches.

Registrations are typed by owners on a web form. From 2026 the vendor's form calls
the phone field 'owner_mobile' (schema drift). Telemetry has a churn signal: usage
drops and alerts rise in the weeks before the owner leaves.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import polars as pl

from demo import clock, events, quality_planting
from demo.context import Context
from demo.planting import BadLine, dumps, pick_rows, splice, truncated, write_lines
from demo.tables import frame, json_lines
from demo.views import SourceStyle, render

STYLE = SourceStyle(hanzi=0.4, swap=0.05, typo=0.04, nickname=0.1, missing_email=0.1,
                    missing_phone=0.2, birth_date=0.0,
                    phone_styles=("e164", "intl", "idd", "national"), email_case=0.15,
                    stale_address=0.2, landline=0.5, family_email=0.5)
OWNERS, SECOND_DEVICE, CONNECTED, REREGISTERED = 0.30, 0.15, 0.65, 0.05
MODELS = (("TS2", "ThermoSense T2"), ("AP3", "AirPure 300"), ("SPM", "SmartPlug Mini"),
          ("HPX", "HeatPump HX"), ("SH1", "SolarHub S1"))
FIRMWARE = ("v1.8.2", "v2.0.1", "v2.1.0", "v2.3.4")
ALERTS = np.array(["overheat", "filter_replace", "offline", "low_battery", "firmware_error"],
                  dtype=object)
DRIFT_FROM = "registry_2026-01.csv"  # first file written with the renamed column
TELEMETRY_DAYS = 180
REGISTRY_COLUMNS = ("serial", "model", "owner_name", "owner_email", "owner_phone",
                    "owner_postcode", "owner_country", "registered_at", "firmware")


def serials(ctx: Context, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(serial, model name); serial numbers are a bijective scramble of a sequence."""
    seq = np.arange(ctx.sequences.get("iot/devices", 1), ctx.sequences.get("iot/devices", 1) + n,
                    dtype=np.uint64)
    ctx.sequences["iot/devices"] = int(seq[-1]) + 1 if n else ctx.sequences.get("iot/devices", 1)
    scrambled = (seq * np.uint64(2654435761) + np.uint64(ctx.seed)) % np.uint64(2**32)
    model = rng.integers(0, len(MODELS), n)
    serial = np.array([f"{MODELS[m][0]}-{s:08X}" for m, s in zip(model, scrambled, strict=True)],
                      dtype=object)
    return serial, np.array([MODELS[m][1] for m in model], dtype=object)


def registrations(ctx: Context, rng: np.random.Generator, owner: np.ndarray, serial: np.ndarray,
                  model: np.ndarray, registered: np.ndarray) -> pl.DataFrame:
    view = render(ctx.people, owner, STYLE, rng)
    n = len(owner)
    return frame({
        "serial": serial, "model": model,
        "owner_name": view.full_name(rng, ("fl", "fl", "LF", "l,f")),
        "owner_email": view.email, "owner_phone": view.phone, "owner_postcode": view.postcode,
        "owner_country": view.country, "registered_at": clock.fmt(registered, clock.CSV_TS),
        "firmware": np.array(FIRMWARE, dtype=object)[rng.integers(0, len(FIRMWARE), n)],
        "_t": registered,
    })


def household_reregistrations(ctx: Context, rng: np.random.Generator, owner: np.ndarray,
                              registered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few devices re-registered later by another member of the owner's household."""
    people = ctx.people
    hh = people.household_id[owner]
    candidates = np.flatnonzero((hh != None) & (rng.random(len(owner)) < REREGISTERED))  # noqa: E711
    if len(candidates) == 0:
        return candidates, candidates, candidates
    members: dict[str, list[int]] = {}
    for i, h in enumerate(people.household_id):
        if h is not None:
            members.setdefault(h, []).append(i)
    device, new_owner, when = [], [], []
    for d in candidates:
        others = [m for m in members[hh[d]] if m != owner[d]]
        end = people.active_until()[others[0]] if others else 0
        if not others or end - registered[d] < 2 * clock.DAY:
            continue
        device.append(d)
        new_owner.append(others[int(rng.integers(0, len(others)))])
        when.append(int(clock.uniform(rng, registered[d] + clock.DAY,
                                      people.active_until()[new_owner[-1]], 1)[0]))
    return np.array(device, dtype=np.int64), np.array(new_owner, dtype=np.int64), np.array(when)


def generate(ctx: Context) -> None:
    rng = ctx.rng("iot")
    people = ctx.people
    person = np.flatnonzero(rng.random(len(people)) < OWNERS)
    owner = np.concatenate([person, person[rng.random(len(person)) < SECOND_DEVICE]])
    owner.sort(kind="stable")
    registered = clock.uniform(rng, clock.START, people.active_until()[owner] - 14 * clock.DAY)
    serial, model = serials(ctx, rng, len(owner))
    regs = registrations(ctx, rng, owner, serial, model, registered)
    dev, new_owner, when = household_reregistrations(ctx, rng, owner, registered)
    again = registrations(ctx, rng, new_owner, serial[dev], model[dev], when)
    final_owner = owner.copy()
    final_owner[dev] = new_owner
    ctx.add_truth("iot", "devices", serial, final_owner)
    write_registry(ctx, quality_planting.iot_registrations(ctx, pl.concat([regs, again]), set(serial[dev])))

    start = np.maximum(registered, ctx.now - TELEMETRY_DAYS * clock.DAY)
    end = np.where(connected(serial), people.active_until()[final_owner], 0)
    ctx.paths.iot_telemetry_landing.mkdir(parents=True, exist_ok=True)
    write_telemetry(ctx, rng, serial, final_owner, start, end, weekly=True)
    quality_planting.iot_telemetry(ctx, ctx.paths.iot_telemetry_landing)


def write_registry(ctx: Context, regs: pl.DataFrame, daily: bool = False) -> None:
    """Monthly files for the history; advance() delivers one file per call."""
    landing = ctx.paths.iot_registry_landing
    landing.mkdir(parents=True, exist_ok=True)
    period = clock.fmt_one(ctx.now, "%Y-%m-%d") if daily else None
    regs = regs.sort("_t", "serial").with_columns(_file=pl.format(
        "registry_{}.csv",
        pl.lit(period) if daily else pl.from_epoch("_t", time_unit="s").dt.strftime("%Y-%m")))
    for (name,), part in sorted(regs.partition_by("_file", as_dict=True).items()):
        out = part.select(REGISTRY_COLUMNS)
        if name >= DRIFT_FROM:
            out = out.rename({"owner_phone": "owner_mobile"})
            ctx.drift.append({"source": "iot", "entity": "devices",
                              "file": ctx.paths.rel(landing / name), "kind": "schema_drift",
                              "renamed_from": "owner_phone", "renamed_to": "owner_mobile",
                              "added_field": None})
        out.write_csv(landing / name)
        ctx.count("iot/devices", out.height)


def connected(serial: np.ndarray) -> np.ndarray:
    """Whether a device ever got online; fixed by its serial so advance() agrees."""
    return np.array([int(s[-8:], 16) % 100 < CONNECTED * 100 for s in serial], dtype=bool)


def base_usage(serial: np.ndarray) -> np.ndarray:
    """Minutes of daily use typical for a device, fixed by its serial across runs."""
    return np.array([40 + (int(s[-8:], 16) % 7) * 25 for s in serial], dtype=np.float64)


def telemetry_frame(ctx: Context, rng: np.random.Generator, serial: np.ndarray,
                    usual: np.ndarray, owner: np.ndarray, device: np.ndarray,
                    t: np.ndarray) -> pl.DataFrame:
    """Readings every few days: usage falls and alerts rise before the owner churns."""
    n = len(device)
    churn = ctx.people.churned_at[owner[device]]
    usage = np.round(usual[device] * events.decline(t, churn) * rng.lognormal(0, 0.25, n))
    usage = usage.astype(np.int64)
    pre_churn = (churn >= 0) & (churn - t < 60 * clock.DAY)
    alert = rng.random(n) < np.where(pre_churn, 0.15, 0.03)
    alert_name = np.where(alert, ALERTS[rng.integers(0, len(ALERTS), n)], None)
    return frame({
        "event_id": ctx.ids("iot/telemetry", n, "EV", 11),
        "device_id": pl.Series(serial, dtype=pl.String).gather(device),
        "ts": clock.fmt(t, clock.API_TS),
        "temp_c": np.round(rng.normal(21.5, 1.8, n) + np.where(alert_name == "overheat", 18, 0), 1),
        "power_w": np.round(usage * rng.uniform(1.5, 3.0, n), 1), "usage_min": usage,
        "alert": alert_name,
    }).select("event_id", "device_id", "ts",
              pl.struct("temp_c", "power_w", "usage_min").alias("metrics"),
              pl.concat_list("alert").list.drop_nulls().alias("alerts"))


def batch_name(t: np.ndarray, weekly: bool, now: int) -> pl.Series:
    if not weekly:  # one batch per advance() call, named by its day
        return pl.Series([f"telemetry_{clock.fmt_one(now, '%Y%m%d')}.jsonl"] * len(t))
    d = pl.from_epoch(pl.Series(t), time_unit="s")
    return pl.select(pl.format("telemetry_{}W{}.jsonl", d.dt.iso_year(),
                               d.dt.week().cast(pl.String).str.zfill(2))).to_series()


def write_telemetry(ctx: Context, rng: np.random.Generator, serial: np.ndarray,
                    owner: np.ndarray, start: np.ndarray, end: np.ndarray, weekly: bool) -> None:
    device, t = events.spread(rng, start, end, 1 / 3, at_least=0 if weekly else 1)
    if len(t) == 0:
        return
    usual = base_usage(serial)
    order = np.lexsort((device, t))
    device, t = device[order], t[order]
    names = batch_name(t, weekly, ctx.now)
    bounds = np.flatnonzero(np.r_[True, (names[1:] != names[:-1]).to_numpy(), True])
    batches = [(names[int(a)], int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    sizes = [b - a for _, a, b in batches]
    total = sum(sizes)
    # Bad lines go into the history only; advance() drops are clean.
    k_bad = max(1, round(total * 0.0002)) if total and weekly else 0
    picks = pick_rows(rng, sizes, 2 * k_bad)
    bad_ids = ctx.ids("iot/telemetry", len(picks), "EV", 11) if picks else []
    # Bad-line ids are reserved first so they stay stable whatever batching we choose.
    plan: dict[int, list[tuple[int, str, str]]] = {}
    for j, (f, row) in enumerate(picks):
        plan.setdefault(f, []).append((row, "malformed_json" if j % 2 else "missing_required",
                                       bad_ids[j]))
    for f, (name, a, b) in enumerate(batches):
        lines = json_lines(telemetry_frame(ctx, rng, serial, usual, owner, device[a:b], t[a:b]))
        bad = []
        for row, kind, rid in plan.get(f, []):
            record = json.loads(lines[row])
            record["event_id"] = rid
            if kind == "missing_required":
                del record["device_id"]
                bad.append(BadLine(row, dumps(record), rid, kind, "device_id"))
            else:
                bad.append(BadLine(row, truncated(record), rid, kind, None))
        out, placed = splice(lines, bad)
        path = ctx.paths.iot_telemetry_landing / name
        write_lines(path, out)
        ctx.count("iot/telemetry", len(out))
        for line_no, bl in placed:
            ctx.plant("iot", "telemetry", ctx.paths.rel(path), line_no, bl.record_id, bl.kind,
                      bl.field)


# --- advance: new registrations and the next telemetry batch -------------------------

NEW_OWNERS_PER_DAY = 0.0001  # of all people


def advance(ctx: Context, truth: pl.DataFrame, since: int) -> None:
    rng = ctx.rng("iot")
    people = ctx.people
    days = (ctx.now - since) / clock.DAY
    mine = truth.filter(pl.col("source") == "iot").unique("source_record_id", keep="last",
                                                           maintain_order=True)
    serial = mine["source_record_id"].to_numpy().astype(object)
    owner = (mine["person_id"].str.slice(1).cast(pl.Int64) - 1).to_numpy()

    has = np.zeros(len(people), dtype=bool)
    has[owner] = True
    candidates = np.flatnonzero(~has & (people.active_until(ctx.now) > since))
    share = min(1.0, NEW_OWNERS_PER_DAY * days * len(people) / max(1, len(candidates)))
    new_owner = events.pick(rng, candidates, share)
    new_serial, model = serials(ctx, rng, len(new_owner))
    registered = clock.uniform(rng, since, ctx.now, len(new_owner))
    if len(new_owner):
        write_registry(ctx, registrations(ctx, rng, new_owner, new_serial, model, registered),
                       daily=True)
        ctx.add_truth("iot", "devices", new_serial, new_owner)

    all_serial = np.concatenate([serial, new_serial])
    all_owner = np.concatenate([owner, new_owner])
    start = np.concatenate([np.full(len(serial), since), registered])
    live = connected(all_serial) & (people.active_until(ctx.now)[all_owner] > since)
    ctx.paths.iot_telemetry_landing.mkdir(parents=True, exist_ok=True)
    write_telemetry(ctx, rng, all_serial, all_owner, start, np.where(live, ctx.now, start),
                    weekly=False)
