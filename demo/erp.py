"""The ERP: a relational database with customers, products, orders and invoices.

Person customers are typed in by order clerks: pinyin for Chinese names, European
date formats, old addresses that nobody updates.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import polars as pl

from demo import clock, events, quality_planting
from demo.context import Context
from demo.identifiers import format_phone, landline_numbers, tax_id
from demo.pools import CURRENCY
from demo.tables import connect_for_bulk_load, finish_bulk_load, frame, insert_frame
from demo.text import PRODUCTS
from demo.views import SourceStyle, render

STYLE = SourceStyle(hanzi=0.15, pinyin_swap=0.25, swap=0.03, typo=0.03, nickname=0.03,
                    missing_email=0.15, missing_phone=0.05, birth_date=0.7,
                    date_formats=("%d.%m.%Y", "%Y-%m-%d"), day_month_swap=0.01,
                    phone_styles=("national", "idd", "digits"), email_case=0.2,
                    stale_address=0.7, landline=0.5, family_email=0.3, national_id=0.6)
CONTACT_STYLE = SourceStyle(hanzi=0.3, pinyin_swap=0.2, typo=0.03, nickname=0.2,
                            missing_email=0.05, missing_phone=0.3,
                            phone_styles=("intl", "national"), landline=0.0, family_email=0.0)
COVERAGE = 0.60
ROLES = ("Purchasing", "Accounts payable", "Facility manager", "CEO", "Office manager", "IT")
CATEGORIES = ("Thermostats", "Air quality", "Smart plugs", "Heat pumps", "Solar", "Services")
ORDER_STATUS = ("delivered", "delivered", "delivered", "shipped", "cancelled", "returned")

TABLES = {
    "customers": ("customer_no TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, "
                  "first_name TEXT, last_name TEXT, birth_date TEXT, national_id TEXT, "
                  "tax_id TEXT, email TEXT, phone TEXT, street TEXT, city TEXT, postcode TEXT, "
                  "country TEXT, social_login TEXT, created_at TEXT NOT NULL, "
                  "updated_at TEXT NOT NULL"),
    "customer_contacts": ("contact_id TEXT PRIMARY KEY, customer_no TEXT NOT NULL, "
                          "first_name TEXT, last_name TEXT, email TEXT, phone TEXT, role TEXT, "
                          "updated_at TEXT NOT NULL"),
    "products": ("sku TEXT PRIMARY KEY, name TEXT, category TEXT, list_price REAL, "
                 "updated_at TEXT NOT NULL"),
    "sales_orders": ("order_no TEXT PRIMARY KEY, customer_no TEXT NOT NULL, "
                     "order_date TEXT NOT NULL, status TEXT, currency TEXT, "
                     "updated_at TEXT NOT NULL"),
    "order_lines": ("order_no TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT, "
                    "quantity INTEGER, unit_price REAL, updated_at TEXT NOT NULL, "
                    "PRIMARY KEY (order_no, line_no)"),
    "invoices": ("invoice_no TEXT PRIMARY KEY, order_no TEXT, customer_no TEXT NOT NULL, "
                 "invoice_date TEXT NOT NULL, amount REAL NOT NULL, currency TEXT, "
                 "paid_at TEXT, updated_at TEXT NOT NULL"),
}


def schema(con: sqlite3.Connection) -> None:
    for name, cols in TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")


def indexes(con: sqlite3.Connection) -> None:
    """Built after the bulk load: much faster than maintaining them row by row."""
    for name in TABLES:
        con.execute(f"CREATE INDEX IF NOT EXISTS {name}_updated_at ON {name} (updated_at)")


def ts(seconds: np.ndarray) -> pl.Series:
    return clock.fmt(seconds, clock.DB_TS)


def person_customers(ctx: Context, rng: np.random.Generator, person: np.ndarray,
                     created: np.ndarray) -> pl.DataFrame:
    view = render(ctx.people, person, STYLE, rng)
    n = len(person)
    updated = clock.uniform(rng, created, np.maximum(created + 1, ctx.people.active_until()[person]))
    return frame({
        "customer_no": ctx.ids("erp/customers", n, "K", 7), "kind": np.full(n, "person", object),
        "name": view.full_name(rng, ("fl", "fl", "l,f", "LF")),
        "first_name": view.first_name, "last_name": view.last_name,
        "birth_date": view.birth_date, "national_id": view.national_id,
        "tax_id": np.full(n, None, object), "email": view.email, "phone": view.phone,
        "street": view.street, "city": view.city, "postcode": view.postcode,
        "country": view.country,
        "social_login": np.full(n, None, object),  # web-shop sign-ups (demo/links.py)
        "created_at": ts(created), "updated_at": ts(updated),
    })


def company_customers(ctx: Context, rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray]:
    comp = ctx.companies
    picked = np.sort(rng.choice(len(comp.name), max(2, len(ctx.people) // 50), replace=False))
    n = len(picked)
    country = comp.country[picked]
    phones, streets, cities, postcodes = [], [], [], []
    for c, li in zip(country, comp.locale_idx[picked], strict=True):
        pool = ctx.pools[li]
        phones.append(format_phone(c, landline_numbers(rng, c, 1)[0], "intl"))
        streets.append(f"{pool.streets[rng.integers(len(pool.streets))]} {rng.integers(1, 99)}")
        cities.append(pool.cities[rng.integers(len(pool.cities))])
        postcodes.append(pool.postcodes[rng.integers(len(pool.postcodes))])
    created = clock.uniform(rng, clock.START, clock.NOW - 90 * clock.DAY, n)
    box = np.array(["info", "accounts", "billing"], dtype=object)[rng.integers(0, 3, n)]
    df = frame({
        "customer_no": ctx.ids("erp/customers", n, "K", 7), "kind": np.full(n, "company", object),
        "name": comp.name[picked], "first_name": np.full(n, None, object),
        "last_name": np.full(n, None, object), "birth_date": np.full(n, None, object),
        "national_id": np.full(n, None, object),
        "tax_id": np.array([tax_id(rng, c) for c in country], dtype=object),
        "email": np.array([f"{b}@{d}" for b, d in zip(box, comp.domain[picked], strict=True)],
                          dtype=object),
        "phone": np.array(phones, dtype=object), "street": np.array(streets, dtype=object),
        "city": np.array(cities, dtype=object), "postcode": np.array(postcodes, dtype=object),
        "country": country, "social_login": np.full(n, None, object),
        "created_at": ts(created), "updated_at": ts(clock.uniform(rng, created, clock.NOW)),
    })
    return df, picked


def customer_contacts(ctx: Context, rng: np.random.Generator, companies: pl.DataFrame,
                      picked: np.ndarray) -> pl.DataFrame:
    """Up to three employees per company customer, with their work email."""
    people = ctx.people
    slot = np.full(len(ctx.companies.name), -1)
    slot[picked] = np.arange(len(picked))
    employee = np.flatnonzero((people.company >= 0) & (slot[np.maximum(people.company, 0)] >= 0))
    employee = employee[rng.permutation(len(employee))]
    rank = pl.DataFrame({"c": people.company[employee]}).select(
        pl.int_range(pl.len()).over("c")).to_series().to_numpy()
    person = np.sort(employee[rank < rng.integers(1, 4, len(employee))])
    view = render(people, person, CONTACT_STYLE, rng)
    domain = ctx.companies.domain[people.company[person]]
    latin_first = np.array([s.lower() for s in people.first_latin[person]], dtype=object)
    latin_last = np.array([s.lower().replace(" ", "") for s in people.last_latin[person]],
                          dtype=object)
    email = np.array([f"{f}.{la}@{d}".replace(" ", "") for f, la, d in
                      zip(latin_first, latin_last, domain, strict=True)], dtype=object)
    email[rng.random(len(person)) < 0.05] = None
    ids = ctx.ids("erp/customer_contacts", len(person), "KC", 7)
    ctx.add_truth("erp", "customer_contacts", ids, person)
    return frame({
        "contact_id": ids,
        "customer_no": companies["customer_no"].to_numpy()[slot[people.company[person]]],
        "first_name": view.first_name, "last_name": view.last_name, "email": email,
        "phone": view.phone,
        "role": np.array(ROLES, dtype=object)[rng.integers(0, len(ROLES), len(person))],
        "updated_at": ts(clock.uniform(rng, clock.START, clock.NOW, len(person))),
    })


def products(ctx: Context, rng: np.random.Generator) -> pl.DataFrame:
    n = 200
    ctx.sequences["erp/products"] = n + 1
    cat = rng.integers(0, len(CATEGORIES), n)
    base = np.array(PRODUCTS, dtype=object)[rng.integers(0, len(PRODUCTS), n)]
    return frame({
        "sku": np.array([f"SKU-{i:05d}" for i in range(1, n + 1)], dtype=object),
        "name": np.array([f"{b} {['Lite', 'Pro', 'Max', 'Kit', 'Plus'][i % 5]} {i}"
                          for i, b in enumerate(base)], dtype=object),
        "category": np.array(CATEGORIES, dtype=object)[cat],
        "list_price": np.round(rng.lognormal(4.5, 0.8, n), 2),
        "updated_at": ts(clock.uniform(rng, clock.START, clock.NOW, n)),
    })


def orders(ctx: Context, rng: np.random.Generator, customer_no: np.ndarray, start: np.ndarray,
           end: np.ndarray, per_day: np.ndarray | float, country: np.ndarray,
           catalogue: pl.DataFrame,
           at_least: int = 0) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Orders with 1-4 lines each and one invoice per order that was not cancelled."""
    cust, when = events.spread(rng, start, end, per_day, at_least)
    order = np.lexsort((cust, when))
    cust, when = cust[order], when[order]
    n = len(cust)
    order_no = ctx.ids("erp/sales_orders", n, "SO", 9)
    status = np.array(ORDER_STATUS, dtype=object)[rng.integers(0, len(ORDER_STATUS), n)]
    recent = when > ctx.now - 5 * clock.DAY
    status[recent] = "open"
    currency = np.array([CURRENCY[c] for c in country[cust]], dtype=object)
    updated = np.minimum(when + rng.integers(0, 10 * clock.DAY, n), ctx.now)
    sales = frame({"order_no": order_no, "customer_no": customer_no[cust],
                   "order_date": ts(when), "status": status, "currency": currency,
                   "updated_at": ts(updated)})

    k = rng.integers(1, 5, n)
    o = np.repeat(np.arange(n), k)
    line_no = (np.arange(len(o)) - np.repeat(np.cumsum(k) - k, k) + 1).astype(np.int64)
    sku = rng.integers(0, catalogue.height, len(o))
    qty = rng.choice([1, 1, 1, 2, 2, 3, 5], len(o)).astype(np.int64)
    price = np.round(catalogue["list_price"].to_numpy()[sku] * rng.uniform(0.85, 1.0, len(o)), 2)
    lines = frame({"order_no": order_no[o], "line_no": line_no,
                   "sku": catalogue["sku"].to_numpy()[sku], "quantity": qty,
                   "unit_price": price, "updated_at": ts(when[o])})

    billed = np.flatnonzero(status != "cancelled")
    amount = np.round(np.bincount(o, weights=qty * price, minlength=n), 2)[billed]
    inv_date = np.minimum(when[billed] + rng.integers(0, 2 * clock.DAY, len(billed)), ctx.now)
    paid = np.where(rng.random(len(billed)) < 0.92,
                    inv_date + rng.integers(clock.DAY, 30 * clock.DAY, len(billed)), -1)
    paid[paid > ctx.now] = -1
    invoices = frame({
        "invoice_no": ctx.ids("erp/invoices", len(billed), "INV", 9), "order_no": order_no[billed],
        "customer_no": customer_no[cust[billed]], "invoice_date": ts(inv_date),
        "amount": amount, "currency": currency[billed], "paid_at": ts(paid),
        "updated_at": ts(np.maximum(inv_date, paid)),
    })
    return sales, lines, invoices


def generate(ctx: Context) -> None:
    rng = ctx.rng("erp")
    people = ctx.people
    person = np.flatnonzero(rng.random(len(people)) < COVERAGE)
    created = clock.uniform(rng, clock.START, people.active_until()[person] - 30 * clock.DAY)
    by_creation = np.argsort(created, kind="stable")  # customer numbers grow over time
    person, created = person[by_creation], created[by_creation]
    end = people.active_until()[person]
    persons = person_customers(ctx, rng, person, created)
    ctx.add_truth("erp", "customers", persons["customer_no"], person)
    companies, picked = company_customers(ctx, rng)
    contacts = customer_contacts(ctx, rng, companies, picked)
    catalogue = products(ctx, rng)

    cust_no = np.concatenate([persons["customer_no"].to_numpy(), companies["customer_no"].to_numpy()])
    start = np.concatenate([created, clock.uniform(rng, clock.START, clock.NOW - 90 * clock.DAY,
                                                   companies.height)])
    stop = np.concatenate([end, np.full(companies.height, ctx.now)])
    # ~3 orders per person over the two years; companies order more often.
    rate = np.concatenate([np.full(len(person), 3 / 730 * 2), np.full(companies.height, 0.02)])
    country = np.concatenate([people.country[person], companies["country"].to_numpy()])
    sales, lines, invoices = orders(ctx, rng, cust_no, start, stop, rate, country, catalogue)

    ctx.paths.erp_db.parent.mkdir(parents=True, exist_ok=True)
    con = connect_for_bulk_load(ctx.paths.erp_db)
    schema(con)
    for name, df in (("customers", pl.concat([persons, companies])),
                     ("customer_contacts", contacts), ("products", catalogue),
                     ("sales_orders", sales), ("order_lines", lines), ("invoices", invoices)):
        insert_frame(con, name, df)
        ctx.count(f"erp/{name}", df.height)
    plant_bad_rows(ctx, con, rng, invoices)
    quality_planting.erp(ctx, con, sales, lines)
    indexes(con)
    finish_bulk_load(con)


def plant_bad_rows(ctx: Context, con: sqlite3.Connection, rng: np.random.Generator,
                   invoices: pl.DataFrame) -> None:
    """Invoice amounts that a legacy screen saved as the text 'N/A' (SQLite keeps it)."""
    if invoices.height == 0:
        return
    k = min(invoices.height, max(1, round(invoices.height * 0.0005)))
    for i in np.sort(rng.choice(invoices.height, k, replace=False)):
        rid = invoices["invoice_no"][int(i)]
        con.execute("UPDATE invoices SET amount = 'N/A' WHERE invoice_no = ?", (rid,))
        ctx.plant("erp", "invoices", "erp.sqlite", None, rid, "wrong_type", "amount")




# --- advance: the ERP's next days ---------------------------------------------------

CUSTOMER_CHANGES_PER_DAY = 0.001
PAYMENTS_PER_DAY = 0.2  # of unpaid invoices


def advance(ctx: Context, truth: pl.DataFrame, since: int) -> None:
    rng = ctx.rng("erp")
    people = ctx.people
    days = (ctx.now - since) / clock.DAY
    mine = truth.filter(pl.col("source") == "erp", pl.col("entity") == "customers")
    person = (mine["person_id"].str.slice(1).cast(pl.Int64) - 1).to_numpy()
    con = sqlite3.connect(ctx.paths.erp_db)
    firms = con.execute("SELECT customer_no, country FROM customers WHERE kind = 'company' "
                        "ORDER BY customer_no").fetchall()
    catalogue = pl.DataFrame(con.execute("SELECT sku, list_price FROM products ORDER BY sku")
                             .fetchall(), schema=["sku", "list_price"], orient="row")
    active = people.active_until(ctx.now)[person] > since
    cust_no = np.concatenate([mine["source_record_id"].to_numpy().astype(object),
                              np.array([f[0] for f in firms], dtype=object)])
    country = np.concatenate([people.country[person], np.array([f[1] for f in firms], dtype=object)])
    stop = np.concatenate([np.where(active, ctx.now, since), np.full(len(firms), ctx.now)])
    rate = np.concatenate([np.full(len(person), 3 / 730 * 2), np.full(len(firms), 0.02)])
    sales, lines, invoices = orders(ctx, rng, cust_no, np.full(len(cust_no), since), stop, rate,
                                    country, catalogue, at_least=1)
    for name, df in (("sales_orders", sales), ("order_lines", lines), ("invoices", invoices)):
        insert_frame(con, name, df)
        ctx.count(f"erp/{name}", df.height)
    update_records(ctx, con, rng, cust_no[: len(person)][active], person[active], since,
                   min(1.0, days))
    con.commit()
    con.close()


def update_records(ctx: Context, con: sqlite3.Connection, rng: np.random.Generator,
                   cust_no: np.ndarray, person: np.ndarray, since: int, days: float) -> None:
    """Clerks fix phone numbers, invoices get paid, open orders get delivered."""
    picked = np.flatnonzero(rng.random(len(cust_no)) < CUSTOMER_CHANGES_PER_DAY * days)
    for i in picked:
        p = int(person[i])
        phone = format_phone(ctx.people.country[p], ctx.people.mobile[p], "national")
        con.execute("UPDATE customers SET phone = ?, updated_at = ? WHERE customer_no = ?",
                    (phone, _one(rng, since, ctx.now), cust_no[i]))
    unpaid = con.execute("SELECT invoice_no FROM invoices WHERE paid_at IS NULL AND "
                         "invoice_date < ? ORDER BY invoice_no",
                         (clock.fmt_one(since, clock.DB_TS),)).fetchall()
    for (invoice_no,) in unpaid:
        if rng.random() < PAYMENTS_PER_DAY * days:
            t = _one(rng, since, ctx.now)
            con.execute("UPDATE invoices SET paid_at = ?, updated_at = ? WHERE invoice_no = ?",
                        (t, t, invoice_no))
    cutoff = clock.fmt_one(ctx.now - 5 * clock.DAY, clock.DB_TS)
    for (order_no,) in con.execute("SELECT order_no FROM sales_orders WHERE status = 'open' "
                                   "AND order_date < ? ORDER BY order_no", (cutoff,)).fetchall():
        con.execute("UPDATE sales_orders SET status = 'delivered', updated_at = ? "
                    "WHERE order_no = ?", (_one(rng, since, ctx.now), order_no))


def _one(rng: np.random.Generator, lo: int, hi: int) -> str:
    return clock.fmt_one(int(clock.uniform(rng, lo, hi, 1)[0]), clock.DB_TS)
