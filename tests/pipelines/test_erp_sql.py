"""Incremental ERP extraction by (updated_at, key) watermark, on SQLite and on a real PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.connectors import erp_sql
from pipelines.connectors.pull import cursors, pull_erp
from pipelines.defs.resources import ErpDatabase
from quality.contracts import ERP_INVOICES, ERP_ORDER_LINES
from warehouse import delta_store
from warehouse.bronze import development_vault
from warehouse.bronze_protection import read_quarantine_opened
from warehouse.layout import HubPaths

INVOICES_DDL = """create table invoices (invoice_no text primary key, order_no text, customer_no text,
    invoice_date text, amount {amount_type}, currency text, paid_at text, updated_at text)"""


def _sqlite(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'erp.sqlite'}")


@pytest.fixture
def postgres() -> Iterator[sa.Engine]:
    url = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("HUB_REQUIRE_POSTGRES"):
            pytest.fail("HUB_REQUIRE_POSTGRES is set but HUB_TEST_POSTGRES_URL is not (see .ci/postgres.sh)")
        pytest.skip("no PostgreSQL: run `.ci/postgres.sh` and set HUB_TEST_POSTGRES_URL")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"erp_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {name}"))
    engine = erp_sql.connect(url.rsplit("/", 1)[0] + "/" + name)  # other URLs connect as they are
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f"drop database {name}"))


def _invoice(n: int, updated: str, amount: object = 10.0) -> dict:
    return {"invoice_no": f"I{n:04d}", "order_no": f"O{n}", "customer_no": "C1", "invoice_date": "2026-01-02",
            "amount": amount, "currency": "EUR", "paid_at": None, "updated_at": updated}


def _insert(engine: sa.Engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("insert into invoices values (:invoice_no, :order_no, :customer_no, :invoice_date, "
                             ":amount, :currency, :paid_at, :updated_at)"), rows)


def _check_incremental_pull(hub_paths: HubPaths, engine: sa.Engine) -> None:
    # Many rows share one timestamp: a plain updated_at watermark would lose some of them.
    _insert(engine, [_invoice(i, "2026-01-01T00:00:00") for i in range(5)])
    first = pull_erp(hub_paths, engine, ERP_INVOICES)
    assert (first.rows_in, first.accepted) == (5, 5)
    assert cursors(hub_paths).get("erp/invoices") == ["2026-01-01T00:00:00", "I0004"]

    _insert(engine, [_invoice(i, "2026-01-01T00:00:00") for i in range(5, 8)])
    with engine.begin() as conn:
        conn.execute(sa.text("update invoices set amount = 99, updated_at = '2026-01-02T00:00:00' where invoice_no = 'I0001'"))
    second = pull_erp(hub_paths, engine, ERP_INVOICES)
    assert (second.rows_in, second.accepted, second.already_loaded) == (4, 4, 0)

    third = pull_erp(hub_paths, engine, ERP_INVOICES)
    assert third.rows_in == 0
    table = delta_store.read(hub_paths.bronze_table("erp", "invoices"))
    assert table.num_rows == 9
    rows = sorted(table.to_pylist(), key=lambda r: r["_ingested_at"])
    versions = [r["amount"] for r in rows if r["invoice_no"] == "I0001"]
    assert versions == [10.0, 99.0]


def test_sqlite_incremental_pull_by_keyset_watermark(hub_paths: HubPaths, tmp_path: Path) -> None:
    engine = _sqlite(tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.text(INVOICES_DDL.format(amount_type="real")))
    _check_incremental_pull(hub_paths, engine)


@pytest.mark.postgres
def test_postgres_incremental_pull_by_keyset_watermark(hub_paths: HubPaths, postgres: sa.Engine) -> None:
    with postgres.begin() as conn:
        conn.execute(sa.text(INVOICES_DDL.format(amount_type="numeric(12,2)")))
    _check_incremental_pull(hub_paths, postgres)


def test_wrong_type_in_sqlite_goes_to_quarantine_and_watermark_moves_on(hub_paths: HubPaths, tmp_path: Path) -> None:
    engine = _sqlite(tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.text(INVOICES_DDL.format(amount_type="real")))
    _insert(engine, [_invoice(1, "2026-01-01T00:00:00"), _invoice(2, "2026-01-01T00:00:01", amount="N/A")])
    report = pull_erp(hub_paths, engine, ERP_INVOICES)
    assert (report.accepted, report.quarantined) == (1, 1)
    [row] = read_quarantine_opened(hub_paths, "erp", development_vault(hub_paths)).to_pylist()
    assert row["_field"] == "amount" and row["_rule"] == "wrong_type" and "'N/A'" in row["_error"]
    assert "erp/invoices sqlite:///" in row["_error"]
    assert '"invoice_no": "I0002"' in row["_raw"]
    assert pull_erp(hub_paths, engine, ERP_INVOICES).rows_in == 0


def test_a_future_stamp_is_quarantined_and_the_watermark_stops_before_it(hub_paths: HubPaths, tmp_path: Path) -> None:
    engine = _sqlite(tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.text(INVOICES_DDL.format(amount_type="real")))
    # The stamps sort last: a watermark that took the last extracted row would sit on them.
    _insert(engine, [_invoice(1, "2026-01-01T00:00:00"), _invoice(2, "2026-01-02T00:00:00"),
                     _invoice(3, "9999-12-31T00:00:00"), _invoice(4, "not a time")])
    first = pull_erp(hub_paths, engine, ERP_INVOICES)
    assert (first.rows_in, first.accepted, first.quarantined) == (4, 2, 2)
    rules = delta_store.read(hub_paths.quarantine_table("erp")).column("_rule").to_pylist()
    assert sorted(rules) == ["bad_timestamp", "future_timestamp"]
    assert cursors(hub_paths).get("erp/invoices") == ["2026-01-02T00:00:00", "I0002"]

    # Written after the first pull, stamped before the bad rows: it must still arrive.
    _insert(engine, [_invoice(5, "2026-01-03T00:00:00")])
    second = pull_erp(hub_paths, engine, ERP_INVOICES)
    assert (second.accepted, second.quarantined, second.already_loaded) == (1, 0, 2)
    ids = sorted(delta_store.read(hub_paths.bronze_table("erp", "invoices")).column("invoice_no").to_pylist())
    assert ids == ["I0001", "I0002", "I0005"]
    assert cursors(hub_paths).get("erp/invoices") == ["2026-01-03T00:00:00", "I0005"]


def test_composite_key_watermark(hub_paths: HubPaths, tmp_path: Path) -> None:
    engine = _sqlite(tmp_path)
    with engine.begin() as conn:
        conn.execute(sa.text("create table order_lines (order_no text, line_no integer, sku text, quantity integer, "
                             "unit_price real, updated_at text, primary key (order_no, line_no))"))
        conn.execute(sa.text("insert into order_lines values ('O1', 1, 'S', 1, 2.0, '2026-01-01T00:00:00'), ('O1', 2, 'S', 1, 2.0, '2026-01-01T00:00:00')"))
    assert pull_erp(hub_paths, engine, ERP_ORDER_LINES).accepted == 2
    with engine.begin() as conn:
        conn.execute(sa.text("insert into order_lines values ('O1', 3, 'S', 1, 2.0, '2026-01-01T00:00:00'), ('O0', 9, 'S', 1, 2.0, '2026-01-02T00:00:00')"))
    assert pull_erp(hub_paths, engine, ERP_ORDER_LINES).accepted == 2


def test_a_missing_sqlite_erp_fails_naming_the_source_and_path_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "erp" / "erp.sqlite"
    missing.parent.mkdir()
    with pytest.raises(FileNotFoundError, match=r"^erp: ") as failure:
        ErpDatabase(url=f"sqlite:///{missing}").engine()
    assert str(missing) in str(failure.value)
    assert list(missing.parent.iterdir()) == []


def test_an_erp_deleted_after_the_engine_was_made_is_not_recreated(tmp_path: Path) -> None:
    db = tmp_path / "erp # 1.sqlite"  # characters a SQLite URI must escape
    _sqlite_with_invoices(db)
    engine = ErpDatabase(url=f"sqlite:///{db}").engine()
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from invoices")).scalar() == 1
    engine.dispose()
    db.unlink()
    with pytest.raises(sa.exc.OperationalError, match="unable to open database file"):
        engine.connect()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_sqlite_erp_pulls_through_the_resource_with_its_url_as_lineage(
        hub_paths: HubPaths, tmp_path: Path) -> None:
    db = tmp_path / "erp.sqlite"
    _sqlite_with_invoices(db)
    url = f"sqlite:///{db}"
    assert pull_erp(hub_paths, ErpDatabase(url=url).engine(), ERP_INVOICES).accepted == 1
    [row] = delta_store.read(hub_paths.bronze_table("erp", "invoices")).to_pylist()
    assert row["_source_uri"] == f"{url}#invoices"


def _sqlite_with_invoices(db: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text(INVOICES_DDL.format(amount_type="real")))
    _insert(engine, [_invoice(1, "2026-01-01T00:00:00")])
    engine.dispose()
