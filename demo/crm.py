"""The CRM: contacts, accounts, opportunities and activities, stored for the REST server.

Each table keeps the JSON record exactly as the API returns it, plus the keyset
columns the server pages on.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import polars as pl

from demo import clock, events, quality_planting
from demo.context import Context
from demo.identifiers import format_phone, mobile_numbers
from demo.pools import CURRENCY
from demo.population import street_address
from demo.tables import connect_for_bulk_load, finish_bulk_load, frame, json_payloads
from demo.text import PRODUCTS, TextMaker
from demo.views import PersonView, SourceStyle, render

ENTITIES = ("contacts", "accounts", "opportunities", "activities")
STYLE = SourceStyle(hanzi=0.85, swap=0.01, typo=0.02, nickname=0.08, missing_email=0.04,
                    missing_phone=0.10, birth_date=0.45, day_month_swap=0.005,
                    phone_styles=("intl", "national", "e164"), email_case=0.05,
                    stale_address=0.3, landline=0.6, family_email=0.5)
# A second record typed in later by another rep: sloppier, often older data.
DUPLICATE_STYLE = SourceStyle(hanzi=0.5, swap=0.03, typo=0.15, nickname=0.3,
                              missing_email=0.3, missing_phone=0.3, birth_date=0.2,
                              phone_styles=("national", "digits", "intl"), email_case=0.3,
                              stale_address=0.6, landline=0.5, family_email=0.3)
COVERAGE, DUPLICATES, SHARED_MAILBOX = 0.70, 0.05, 0.005
STAGES_OPEN = ("prospecting", "qualification", "proposal", "negotiation")
LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
             "opportunity", "customer", "evangelist")
INDUSTRIES = ("Manufacturing", "Retail", "Software", "Energy", "Healthcare", "Logistics",
              "Hospitality", "Construction", "Finance", "Education")
ACTIVITY_KINDS = np.array(["call", "email", "meeting", "ticket"], dtype=object)
OWNERS = np.array([f"rep_{i:02d}" for i in range(1, 26)], dtype=object)


def schema(con: sqlite3.Connection) -> None:
    for name in ENTITIES:
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} "
                    "(id TEXT PRIMARY KEY, updated_at TEXT NOT NULL, payload TEXT NOT NULL)")


def indexes(con: sqlite3.Connection) -> None:
    """Built after the bulk load: much faster than maintaining them row by row."""
    for name in ENTITIES:
        con.execute(f"CREATE INDEX IF NOT EXISTS {name}_keyset ON {name} (updated_at, id)")


def store(con: sqlite3.Connection, entity: str, df: pl.DataFrame) -> None:
    rows = pl.DataFrame([df["id"], df["updated_at"], json_payloads(df)])
    con.executemany(f"INSERT OR REPLACE INTO {entity} (id, updated_at, payload) VALUES (?,?,?)",
                    rows.iter_rows())


def contact_frame(ctx: Context, rng: np.random.Generator, ids: np.ndarray, view: PersonView,
                  person: np.ndarray, created: np.ndarray, updated: np.ndarray) -> pl.DataFrame:
    """Contact records in contract field order."""
    n = len(ids)
    comp = ctx.people.company[person]
    shows_company = (comp >= 0) & (rng.random(n) < 0.6)
    safe = np.where(comp >= 0, comp, 0)
    email = view.email.copy()
    mailbox = np.flatnonzero(shows_company & (rng.random(n) < SHARED_MAILBOX / 0.18))
    email[mailbox] = ["team@" + d for d in ctx.companies.domain[safe[mailbox]]]
    return frame({
        "id": ids, "first_name": view.first_name, "last_name": view.last_name, "email": email,
        "phone": view.phone,
        "company_name": np.where(shows_company, ctx.companies.name[safe], None),
        "account_id": np.where(shows_company, account_ids(safe), None),
        "street": view.street, "city": view.city, "postcode": view.postcode,
        "country": view.country, "birth_date": view.birth_date,
        "owner": OWNERS[rng.integers(0, len(OWNERS), n)],
        "lifecycle_stage": np.array(LIFECYCLE, dtype=object)[
            rng.choice(len(LIFECYCLE), n, p=[.05, .1, .1, .1, .1, .5, .05])],
        "email_opt_in": rng.random(n) < 0.6,
        # Set by the social-care tool when the person DMs the brand (demo/links.py).
        "social_profile": np.full(n, None, object),
        "created_at": clock.fmt(created, clock.API_TS), "updated_at": clock.fmt(updated, clock.API_TS),
    })


def account_ids(company_idx: np.ndarray) -> np.ndarray:
    return np.array([f"AC{i + 1:08d}" for i in company_idx], dtype=object)


def generate(ctx: Context) -> None:
    rng = ctx.rng("crm")
    people = ctx.people
    person = np.flatnonzero(rng.random(len(people)) < COVERAGE)
    end = people.active_until()[person]
    created = clock.uniform(rng, clock.START, end - 30 * clock.DAY)
    dup = np.flatnonzero(rng.random(len(person)) < DUPLICATES)
    dup_created = clock.uniform(rng, created[dup], end[dup])

    views = [render(people, person, STYLE, rng), render(people, person[dup], DUPLICATE_STYLE, rng)]
    all_person = np.concatenate([person, person[dup]])
    all_created = np.concatenate([created, dup_created])
    # Ids grow with creation time, as a real auto-increment would.
    order = np.argsort(all_created, kind="stable")
    all_person, all_created = all_person[order], all_created[order]
    view = PersonView(**{k: np.concatenate([getattr(v, k) for v in views])[order]
                         for k in PersonView.__dataclass_fields__})
    ids = ctx.ids("crm/contacts", len(order), "CT", 8)
    updated = clock.uniform(rng, all_created, people.active_until()[all_person])
    contacts = contact_frame(ctx, rng, ids, view, all_person, all_created, updated)
    ctx.add_truth("crm", "contacts", ids, all_person)

    accounts = account_frame(ctx, rng)
    opportunities = opportunity_frame(ctx, rng, contacts, all_person, all_created)
    activities = activity_frame(ctx, rng, contacts, view, all_person, all_created)

    ctx.paths.crm_db.parent.mkdir(parents=True, exist_ok=True)
    ctx.paths.crm_config.write_text(json.dumps({"api_key": "demo-key"}) + "\n")
    con = connect_for_bulk_load(ctx.paths.crm_db)
    schema(con)
    for name, df in (("contacts", contacts), ("accounts", accounts),
                     ("opportunities", opportunities), ("activities", activities)):
        store(con, name, df)
        ctx.count(f"crm/{name}", df.height)
    plant_bad_rows(ctx, con, rng, contacts, opportunities)
    quality_planting.crm(ctx, con, contacts, opportunities, update_record)
    indexes(con)
    finish_bulk_load(con)


def account_frame(ctx: Context, rng: np.random.Generator) -> pl.DataFrame:
    comp = ctx.companies
    n = len(comp.name)
    ctx.sequences["crm/accounts"] = n + 1
    created = clock.uniform(rng, clock.START, clock.NOW - 60 * clock.DAY, n)
    return frame({
        "id": account_ids(np.arange(n)), "name": comp.name, "domain": comp.domain,
        "industry": np.array(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n)],
        "country": comp.country, "owner": OWNERS[rng.integers(0, len(OWNERS), n)],
        "created_at": clock.fmt(created, clock.API_TS),
        "updated_at": clock.fmt(clock.uniform(rng, created, clock.NOW), clock.API_TS),
    })


def opportunity_frame(ctx: Context, rng: np.random.Generator, contacts: pl.DataFrame,
                      person: np.ndarray, created: np.ndarray) -> pl.DataFrame:
    per_contact = rng.poisson(0.15, len(person))
    c = np.repeat(np.arange(len(person)), per_contact)
    n = len(c)
    end = ctx.people.active_until()[person[c]]
    opened = clock.uniform(rng, created[c], end)
    closes = opened + rng.integers(14, 120, n) * clock.DAY
    closed = closes < ctx.now
    won = rng.random(n) < 0.45
    stage = np.where(closed, np.where(won, "closed_won", "closed_lost"),
                     np.array(STAGES_OPEN, dtype=object)[rng.integers(0, 4, n)])
    label = contacts["company_name"].fill_null(contacts["last_name"]).to_numpy()[c]
    product = np.array(PRODUCTS, dtype=object)[rng.integers(0, len(PRODUCTS), n)]
    # An open deal past its first stage entered that stage some time after it was opened: the
    # CRM's updated_at says when. Its own stream, so the rest of the CRM stays as it was.
    stage_rng = ctx.rng("crm/opportunity_stages")
    later_stage = ~closed & (stage != STAGES_OPEN[0])
    entered = np.where(later_stage, clock.uniform(stage_rng, opened, np.maximum(ctx.now, opened + 1)), opened)
    return frame({
        "id": ctx.ids("crm/opportunities", n, "OP", 8),
        "account_id": contacts["account_id"].to_numpy()[c], "contact_id": contacts["id"].to_numpy()[c],
        "name": np.array([f"{a} – {p}" for a, p in zip(label, product, strict=True)], dtype=object),
        "stage": stage.astype(object),
        "amount": np.round(rng.lognormal(8.3, 0.9, n), 2),
        "currency": np.array([CURRENCY[x] for x in ctx.people.country[person[c]]], dtype=object),
        "close_date": clock.fmt(closes, "%Y-%m-%d"),
        "created_at": clock.fmt(opened, clock.API_TS),
        "updated_at": clock.fmt(np.minimum(np.where(closed, closes, entered), ctx.now), clock.API_TS),
    })


def activity_frame(ctx: Context, rng: np.random.Generator, contacts: pl.DataFrame,
                   view: PersonView, person: np.ndarray, created: np.ndarray,
                   start: np.ndarray | None = None, end: np.ndarray | None = None,
                   per_day: float | None = None, at_least: int = 0) -> pl.DataFrame:
    """About three activities per contact; churners add complaints in their last 60 days."""
    people = ctx.people
    start = created if start is None else start
    end = people.active_until()[person] if end is None else end
    if per_day is None:
        per_day = 3 * len(person) / max(1.0, float(np.maximum(end - start, 0).sum()) / clock.DAY)
    c, t = events.spread(rng, start, end, per_day, at_least)
    kind = ACTIVITY_KINDS[rng.choice(4, len(c), p=[.35, .35, .15, .15])]
    churn = people.churned_at[person]
    in_window = (churn >= start) & (churn <= end)
    cc, tc = events.before_churn(rng, np.where(in_window, churn, -1), 2 / 60, start)
    c, t = np.concatenate([c, cc]), np.concatenate([t, tc])
    kind = np.concatenate([kind, np.full(len(cc), "ticket", dtype=object)])
    order = np.lexsort((c, t))
    c, t, kind = c[order], t[order], kind[order]
    names = view.full_name(rng)[c]
    maker = TextMaker(rng)
    subjects, bodies = maker.activities(
        kind, people.is_zh()[person[c]], names, view.email[c], view.phone[c],
        people.national_id[person[c]])
    updated = np.minimum(t + rng.integers(0, 3 * clock.DAY, len(c)), ctx.now)
    ids = ctx.ids("crm/activities", len(c), "AV", 9)
    ctx.add_pii_spans("crm", "activities", "body", ids, maker.spans)
    return frame({
        "id": ids,
        "contact_id": contacts["id"].to_numpy()[c], "type": kind,
        "subject": np.array(subjects, dtype=object), "body": np.array(bodies, dtype=object),
        "occurred_at": clock.fmt(t, clock.API_TS), "updated_at": clock.fmt(updated, clock.API_TS),
    })


def update_record(con: sqlite3.Connection, entity: str, record_id: str,
                  changes: dict[str, object]) -> None:
    """Change fields of one stored record; the keyset column follows its updated_at."""
    (payload,) = con.execute(f"SELECT payload FROM {entity} WHERE id = ?", (record_id,)).fetchone()
    record = json.loads(payload)
    record.update(changes)
    con.execute(f"UPDATE {entity} SET payload = ?, updated_at = ? WHERE id = ?",
                (json.dumps(record, ensure_ascii=False, separators=(",", ":")),
                 record["updated_at"], record_id))


def plant_bad_rows(ctx: Context, con: sqlite3.Connection, rng: np.random.Generator,
                   contacts: pl.DataFrame, opportunities: pl.DataFrame) -> None:
    """A first name with a pasted note (over 200 chars) and amounts typed as '12k'."""
    n_long = max(1, round(contacts.height * 0.0005))
    for i in np.sort(rng.choice(contacts.height, n_long, replace=False)):
        rid = contacts["id"][int(i)]
        note = " (prefers calls after 6pm, spouse handles billing, see ticket history)" * 4
        update_record(con, "contacts", rid,
                      {"first_name": (contacts["first_name"][int(i)] or "") + note})
        ctx.plant("crm", "contacts", "crm.sqlite", None, rid, "overlong_field", "first_name")
    if opportunities.height == 0:
        return
    n_amount = max(1, round(opportunities.height * 0.002))
    for i in np.sort(rng.choice(opportunities.height, min(n_amount, opportunities.height),
                                replace=False)):
        rid = opportunities["id"][int(i)]
        amount = opportunities["amount"][int(i)]
        update_record(con, "opportunities", rid, {"amount": f"{max(1, round(amount / 1000))}k"})
        ctx.plant("crm", "opportunities", "crm.sqlite", None, rid, "wrong_type", "amount")


# --- advance: the CRM's next days ---------------------------------------------------

CHANGES_PER_DAY = 0.002        # of contacts: a new phone number or a move
NEW_CONTACTS_PER_DAY = 0.0005  # of all people
ACTIVITIES_PER_DAY = 0.009     # per active contact, about three a year
STAGE_DAYS = 21                # mean days an open deal stays in a stage
DROPPED_PER_MOVE = 0.12        # a move that is the deal being lost, from any stage
WON_AFTER_NEGOTIATION = 0.6    # deals leaving negotiation that are won


def person_index(person_ids: pl.Series) -> np.ndarray:
    return (person_ids.str.slice(1).cast(pl.Int64) - 1).to_numpy()


def advance(ctx: Context, truth: pl.DataFrame, since: int) -> None:
    rng = ctx.rng("crm")
    people = ctx.people
    days = (ctx.now - since) / clock.DAY
    mine = truth.filter(pl.col("source") == "crm", pl.col("entity") == "contacts")
    ids = mine["source_record_id"].to_numpy().astype(object)
    person = person_index(mine["person_id"])
    active = people.active_until(ctx.now)[person] > since
    con = sqlite3.connect(ctx.paths.crm_db)
    change_contacts(ctx, con, rng, ids[active], person[active], since, min(1.0, CHANGES_PER_DAY * days))

    known = np.zeros(len(people), dtype=bool)
    known[person] = True
    candidates = np.flatnonzero(~known & (people.active_until(ctx.now) > since))
    share = min(1.0, NEW_CONTACTS_PER_DAY * days * len(people) / max(1, len(candidates)))
    new_person = events.pick(rng, candidates, share)
    created = clock.uniform(rng, since, ctx.now, len(new_person))
    new_ids = ctx.ids("crm/contacts", len(new_person), "CT", 8)
    contacts = contact_frame(ctx, rng, new_ids, render(people, new_person, STYLE, rng),
                             new_person, created, created)
    store(con, "contacts", contacts)
    ctx.count("crm/contacts", contacts.height)
    ctx.add_truth("crm", "contacts", new_ids, new_person)

    all_ids = np.concatenate([ids[active], new_ids])
    all_person = np.concatenate([person[active], new_person])
    start = np.concatenate([np.full(active.sum(), since), created])
    end = np.minimum(people.active_until(ctx.now)[all_person], ctx.now)
    activities = activity_frame(ctx, rng, pl.DataFrame({"id": all_ids.tolist()}),
                                render(people, all_person, STYLE, rng), all_person, start,
                                start=start, end=end, per_day=ACTIVITIES_PER_DAY, at_least=1)
    store(con, "activities", activities)
    ctx.count("crm/activities", activities.height)
    move_opportunities(ctx, con, since)
    con.commit()
    con.close()


def move_opportunities(ctx: Context, con: sqlite3.Connection, since: int) -> None:
    """Open deals move through the pipeline: each stage lasts an exponential time (mean
    STAGE_DAYS) after which the deal advances, or is lost; negotiation ends won or lost. The
    CRM keeps only the current version and bumps updated_at, so a hub pulling between two
    moves sees every stage, and one pulling less often sees only the latest."""
    rng = ctx.rng("crm/opportunities")
    rows = con.execute("SELECT id, payload FROM opportunities ORDER BY id").fetchall()
    for record_id, payload in rows:
        record = json.loads(payload)
        stage = record.get("stage")
        if stage not in STAGES_OPEN:
            continue
        # Waiting times are memoryless: a stage entered before `since` can end from `since` on.
        t = float(max(since, clock.parse(record["updated_at"])))
        changes: dict[str, object] = {}
        while stage in STAGES_OPEN:
            t += rng.exponential(STAGE_DAYS * clock.DAY)
            if t >= ctx.now:
                break
            position = STAGES_OPEN.index(stage)
            if rng.random() < DROPPED_PER_MOVE:
                stage = "closed_lost"
            elif position + 1 < len(STAGES_OPEN):
                stage = STAGES_OPEN[position + 1]
            else:
                stage = "closed_won" if rng.random() < WON_AFTER_NEGOTIATION else "closed_lost"
            changes.update(stage=stage, updated_at=clock.fmt_one(int(t)))
            if stage not in STAGES_OPEN:
                changes["close_date"] = clock.fmt_one(int(t), "%Y-%m-%d")
        if changes:
            update_record(con, "opportunities", record_id, changes)


def change_contacts(ctx: Context, con: sqlite3.Connection, rng: np.random.Generator,
                    ids: np.ndarray, person: np.ndarray, since: int, share: float) -> None:
    """Some people get a new phone or move; the CRM learns it and bumps updated_at."""
    people = ctx.people
    picked = events.pick(rng, np.arange(len(ids)), share)
    when = np.sort(clock.uniform(rng, since, ctx.now, len(picked)))
    for i, t in zip(picked, when, strict=True):
        p = int(person[i])
        country = people.country[p]
        if rng.random() < 0.5:
            people.mobile[p] = mobile_numbers(rng, country, 1)[0]
            changes = {"phone": format_phone(country, people.mobile[p], "intl")}
        else:
            (street,), (city,), (postcode,) = street_address(rng, ctx.pools[people.locale[p]], 1)
            people.old_street[p], people.old_city[p], people.old_postcode[p] = (
                people.street[p], people.city[p], people.postcode[p])
            people.street[p], people.city[p], people.postcode[p] = street, city, postcode
            people.moved_at[p] = t
            changes = {"street": street, "city": city, "postcode": postcode}
        update_record(con, "contacts", ids[i], {**changes, "updated_at": clock.fmt_one(t)})
