"""Each role's published database, opened raw after a real run: it does not open without its
key, its bytes hold none of the world's identifiers, and what the role reads (every value of
every table) holds nothing the policy keeps from it. The sales rep sees exactly the accounts and
contacts the CRM says they own."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from hub.keys_cli import master_key_from_env
from privacy.keys.keystore import KeyStore
from privacy.roles import POLICY_FILE, load_policy, parse_policy
from warehouse.database import DatabaseFile, connect, database_key
from warehouse.layout import HubPaths
from warehouse.role_databases import published_digest, role_database

ROLES = ("data_engineer", "analyst", "data_scientist", "marketing")


@pytest.fixture(scope="module")
def keys(pipeline_run: tuple[HubPaths, dict, list[int]]) -> Iterator[dict[str, str]]:
    paths = pipeline_run[0]
    store = KeyStore.open(paths.key_store, master_key_from_env(paths))
    cache: dict[str, str] = {}

    class Keys(dict):  # the key of any database file, fetched from the real key store
        def __missing__(self, name: str) -> str:
            cache[name] = database_key(store, name)
            return cache[name]

    yield Keys()
    store.close()


def _db(paths: HubPaths, keys: dict[str, str], role: str, user: str | None = None) -> DatabaseFile:
    return role_database(paths.published, role, user, keys.__getitem__)


def _identifiers(paths: HubPaths) -> dict[str, set[str]]:
    people = pl.read_parquet(paths.world / "truth" / "people.parquet")

    def values(column: str) -> set[str]:
        return {str(v) for v in people[column].drop_nulls().to_list() if str(v).strip()}

    phones = {re.sub(r"\D", "", p)[-8:] for p in values("phone") if len(re.sub(r"\D", "", p)) >= 8}
    return {"email": {e.lower() for e in values("email")}, "phone_digits": phones,
            "national_id": values("national_id"), "street": {s for s in values("street") if len(s) > 6},
            "birth_date": {str(d) for d in people["birth_date"].drop_nulls().to_list()}}


def _texts(db: DatabaseFile) -> tuple[str, str]:
    """Every string value, and every value of any type, of every table of ``db``, as text."""
    strings, everything = [], []
    with connect(db) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_catalog = current_database() and table_type = 'BASE TABLE'").fetchall()
        for schema, table in tables:
            rel = con.sql(f'select * from "{schema}"."{table}"')
            for name, kind in zip(rel.columns, rel.types, strict=True):
                column = [str(v) for (v,) in con.execute(f'select distinct "{name}" from "{schema}"."{table}" '
                                                         f'where "{name}" is not null').fetchall()]
                everything += column
                if str(kind) == "VARCHAR":
                    strings += column
    return "\n".join(strings).lower(), "\n".join(everything)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_file_opens_only_with_its_own_key(pipeline_run: tuple[HubPaths, dict, list[int]],
                                                 keys: dict[str, str], role: str) -> None:
    paths = pipeline_run[0]
    db = _db(paths, keys, role)
    with duckdb.connect() as con, pytest.raises(duckdb.Error, match="without a key"):
        con.execute(f"attach '{db.path}' as r (read_only)")
    other = "analyst" if role != "analyst" else "data_scientist"
    with duckdb.connect() as con, pytest.raises(duckdb.Error, match=r"[Ww]rong encryption key"):
        con.execute(f"attach '{db.path}' as r (encryption_key '{keys['role/' + other]}', read_only)")
    with connect(db) as con:
        assert con.execute("select role, policy_sha256 from _policy").fetchone() == (role, load_policy().digest)


def test_no_role_file_holds_an_identifier_in_its_bytes(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths = pipeline_run[0]
    ids = _identifiers(paths)
    needles = [e.encode() for e in sorted(ids["email"])] + [n.encode() for n in sorted(ids["national_id"])]
    files = sorted(paths.published.rglob("*.duckdb"))
    assert len(files) >= len(ROLES) + 1  # and the sales reps' files
    for path in files:
        data = path.read_bytes()
        found = [n.decode() for n in needles if n in data]
        assert not found, f"{path.name} holds {len(found)} identifiers in clear"


def test_the_analyst_reads_masked_identifiers_and_no_street(pipeline_run: tuple[HubPaths, dict, list[int]],
                                                            keys: dict[str, str]) -> None:
    paths = pipeline_run[0]
    db = _db(paths, keys, "analyst")
    ids = _identifiers(paths)
    strings, everything = _texts(db)
    assert not [e for e in ids["email"] if e in strings]
    assert not [p for p in ids["phone_digits"] if p in strings]
    assert not [n for n in ids["national_id"] if n.lower() in strings]
    assert not [s for s in ids["street"] if s.lower() in strings]
    assert not [d for d in ids["birth_date"] if d in everything]
    with connect(db) as con:
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                             "where table_name = 'customer_360'").fetchall()}
        assert {"street", "postcode", "birth_date"}.isdisjoint(columns) and "birth_year" in columns
        emails = [r[0] for r in con.execute("select email from customer_360 where email is not null").fetchall()]
        assert emails and all(re.fullmatch(r"[^@]\*\*\*@[^@]+", e) for e in emails)
        phones = [r[0] for r in con.execute("select phone from customer_360 where phone is not null").fetchall()]
        assert phones and all(re.fullmatch(r"\*\*\*\d{4}", p) for p in phones)
        with connect(_db(paths, keys, "data_engineer")) as full:
            assert con.execute("select count(*) from customer_360").fetchone() == full.execute(
                "select count(*) from marts.customer_360").fetchone()


def test_the_data_scientist_reads_no_direct_identifier(pipeline_run: tuple[HubPaths, dict, list[int]],
                                                       keys: dict[str, str]) -> None:
    paths = pipeline_run[0]
    db = _db(paths, keys, "data_scientist")
    ids = _identifiers(paths)
    strings, _ = _texts(db)
    people = pl.read_parquet(paths.world / "truth" / "people.parquet")
    last_names = {n.lower() for n in people["last_name"].drop_nulls().to_list() if len(n) > 4}
    assert not [e for e in ids["email"] if e in strings]
    assert not [p for p in ids["phone_digits"] if p in strings]
    words = set(re.findall(r"\w+", strings))
    assert not last_names & words
    with connect(db) as con:
        assert con.execute("select count(*) from customer_features_daily").fetchone()[0] > 0


def test_marketing_is_declared_with_no_rows(pipeline_run: tuple[HubPaths, dict, list[int]],
                                            keys: dict[str, str]) -> None:
    with connect(_db(pipeline_run[0], keys, "marketing")) as con:
        assert con.execute("select count(*) from customer_360").fetchone() == (0,)


def _world_owned(paths: HubPaths, entity: str) -> dict[str, set[str]]:
    with sqlite3.connect(paths.world / "crm" / "crm.sqlite") as con:
        rows = con.execute(f"select id, payload from {entity}").fetchall()
    owned: dict[str, set[str]] = {}
    for record_id, payload in rows:
        owner = json.loads(payload).get("owner")
        if owner:
            owned.setdefault(owner, set()).add(record_id)
    return owned


def test_each_sales_rep_sees_exactly_the_accounts_and_contacts_they_own_in_the_crm(
    pipeline_run: tuple[HubPaths, dict, list[int]], keys: dict[str, str]
) -> None:
    paths = pipeline_run[0]
    contacts, accounts = _world_owned(paths, "contacts"), _world_owned(paths, "accounts")
    with connect(_db(paths, keys, "data_engineer")) as full:
        landed_contacts = {r[0] for r in full.execute("select contact_id from staging.stg_crm__contacts").fetchall()}
        landed_accounts = {r[0] for r in full.execute("select account_id from staging.stg_crm__accounts").fetchall()}
        customers_of = {rep: {r[0] for r in full.execute(
            "select distinct customer_id from intermediate.int_identity_current where source = 'crm' "
            "and source_record_id in (select unnest(?::varchar[]))", [sorted(ids)]).fetchall()}
            for rep, ids in contacts.items()}
        opportunities = full.execute("select opportunity_id, account_id, contact_id from staging.stg_crm__opportunities").fetchall()
    files = sorted((paths.published / "sales_rep").glob("*.duckdb"))
    assert {f.stem for f in files} == set(contacts) | set(accounts)
    for path in files:
        rep = path.stem
        with connect(_db(paths, keys, "sales_rep", rep)) as con:
            seen_contacts = {r[0] for r in con.execute("select contact_id from contacts").fetchall()}
            seen_accounts = {r[0] for r in con.execute("select account_id from accounts").fetchall()}
            seen_customers = {r[0] for r in con.execute("select customer_id from customer_360").fetchall()}
            timeline = {r[0] for r in con.execute("select distinct customer_id from customer_timeline").fetchall()}
            seen_opportunities = {r[0] for r in con.execute("select opportunity_id from opportunities").fetchall()}
            columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
        assert seen_contacts == contacts.get(rep, set()) & landed_contacts, rep
        assert seen_accounts == accounts.get(rep, set()) & landed_accounts, rep
        assert seen_customers == customers_of.get(rep, set()), rep
        assert timeline <= seen_customers
        assert {"street", "postcode", "birth_date"}.isdisjoint(columns)
        assert seen_opportunities == {o for o, a, c in opportunities if a in seen_accounts or c in seen_contacts}, rep


def test_hub_sql_prints_csv_for_a_role_and_refuses_what_the_role_is_not(
    pipeline_run: tuple[HubPaths, dict, list[int]]
) -> None:
    hub = str(Path(sys.executable).with_name("hub"))
    env = dict(os.environ)
    out = subprocess.run([hub, "sql", "--role", "analyst", "-c", "select count(*) as n from customer_360"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "n" and int(out.stdout.splitlines()[1]) > 0
    denied = subprocess.run([hub, "sql", "--role", "analyst", "-c", "select street from customer_360"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert denied.returncode != 0 and "street" in denied.stderr
    rep = sorted((pipeline_run[0].published / "sales_rep").glob("*.duckdb"))[0].stem
    no_user = subprocess.run([hub, "sql", "--role", "sales_rep", "-c", "select 1"],
                             capture_output=True, text=True, env=env, timeout=300)
    assert no_user.returncode == 2 and "--as" in no_user.stderr
    mine = subprocess.run([hub, "sql", "--role", "sales_rep", "--as", rep, "-c",
                           "select distinct owner_id from contacts"], capture_output=True, text=True, env=env, timeout=300)
    assert mine.returncode == 0 and mine.stdout.split() == ["owner_id", rep]
    # The DuckDB CLI is opened with the key on a pipe: a query on stdin answers.
    cli = subprocess.run([hub, "sql", "--role", "analyst"], input="select count(*) > 0 from customer_360;\n",
                         capture_output=True, text=True, env=env, timeout=300)
    assert cli.returncode == 0 and "true" in cli.stdout


def test_a_policy_change_republishes_the_role_before_it_is_read(
    pipeline_run: tuple[HubPaths, dict, list[int]], keys: dict[str, str]
) -> None:
    from hub.sql_cli import role_file

    paths = pipeline_run[0]
    text = POLICY_FILE.read_text()
    narrower = parse_policy(text.replace("          city: keep\n          country: keep\n          address_source: keep",
                                         "          city: drop\n          country: keep\n          address_source: keep"))
    db = role_file(paths, narrower, "analyst", None)
    assert published_digest(db) == narrower.digest
    with connect(db) as con:
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                             "where table_name = 'customer_360'").fetchall()}
    assert "city" not in columns
    role_file(paths, load_policy(), "analyst", None)  # and back, for the other tests
