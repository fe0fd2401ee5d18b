"""The PII catalog asset as Dagster runs it, on a real bronze Delta table and warehouse file."""

from __future__ import annotations

import json
import random

import dagster as dg
import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from pipelines.defs.privacy import assets
from pipelines.defs.resources import HubStorage
from tests.privacy.conftest import cn_mobile, made_up_name
from warehouse.database import DatabaseFile, connect
from warehouse.layout import HubPaths


def _world(paths: HubPaths, drift: bool) -> list[str]:
    rng = random.Random(3)
    names = [made_up_name(rng) for _ in range(30)]
    emails = [f"{f.lower()}.{la.lower()}@example.com" for f, la in names]
    extra = [json.dumps({"home_phone": cn_mobile(rng)} if drift else {"colour": "blue"})
             for _ in names]
    write_deltalake(str(paths.bronze / "crm" / "contacts"), pa.table({
        "id": [f"CT{i}" for i in range(30)], "email": emails, "_extra": extra}))
    paths.root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse_db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.customer_360 (customer_id varchar, email varchar)")
        con.executemany("insert into marts.customer_360 values (?, ?)",
                        [[f"cu{i}", e] for i, e in enumerate(emails)])
    return emails


def _run(paths: HubPaths) -> dg.ExecuteInProcessResult:
    return dg.materialize([assets.pii_catalog], resources={"storage": HubStorage(data_dir=str(paths.root))},
                          raise_on_error=True)


def test_catalog_is_stored_and_its_check_warns_on_undeclared_pii(hub_paths: HubPaths) -> None:
    emails = _world(hub_paths, drift=True)
    result = _run(hub_paths)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["undeclared_pii"].value == 1
    assert "| bronze/crm/contacts | _extra.home_phone | undeclared_pii | PHONE_NUMBER | 30 / 30 |" \
        in evaluation.metadata["detail"].value
    meta = result.asset_materializations_for_node("governance__pii_catalog")[0].metadata
    assert meta["dagster/row_count"].value == 5 and meta["tables"].value == 2
    assert not any(e in json.dumps({k: str(v.value) for k, v in meta.items()}) for e in emails)
    with duckdb.connect(str(hub_paths.warehouse_db), read_only=True) as con:
        rows = con.execute("select \"table\", \"column\", status, level from governance.pii_catalog "
                           "order by 1, 2").fetchall()
    assert ("marts.customer_360", "email", "declared", "L3") in rows
    assert ("marts.customer_360", "customer_id", "unclassified", "L3") in rows


def test_check_passes_when_everything_is_declared(hub_paths: HubPaths) -> None:
    _world(hub_paths, drift=False)
    (evaluation,) = _run(hub_paths).get_asset_check_evaluations()
    assert evaluation.passed


def test_free_text_is_redacted_into_silver_with_counts(hub_paths: HubPaths, engineer_copy: DatabaseFile) -> None:
    rng = random.Random(5)
    first, last = made_up_name(rng)
    mobile = cn_mobile(rng)
    email = f"{first.lower()}@example.org"
    write_deltalake(str(hub_paths.bronze / "social" / "posts"), pa.table({
        "post_id": ["P1", "P2", "P1"], "text": [f"私信或联系我：{mobile}", "Love the AirPure 300!",
                                               f"DM me or reach me at {email}"],
        "bio": [None, "Coffee and cycling.", None],
        "_ingested_at": ["2026-01-01T00:00:00", "2026-01-01T00:00:00", "2026-01-02T00:00:00"]}))
    write_deltalake(str(hub_paths.bronze / "crm" / "activities"), pa.table({
        "id": ["A1"], "subject": ["Follow-up call"], "body": [f"Called {first} {last} on {mobile}."],
        "_ingested_at": ["2026-01-01T00:00:00"]}))
    # The last published warehouse knows this customer.
    hub_paths.published_db.parent.mkdir(parents=True)
    with connect(engineer_copy, read_only=False) as con:
        con.execute("create schema marts")
        con.execute("create table marts.customer_360 as select ? as full_name, ? as first_name, "
                    "? as last_name", [f"{first} {last}", first, last])
    result = dg.materialize([assets.redacted_free_text],
                            resources={"storage": HubStorage(data_dir=str(hub_paths.root))})
    meta = result.asset_materializations_for_node("silver__free_text")[0].metadata
    assert meta["entities_by_type"].value == {"EMAIL_ADDRESS": 1, "PERSON": 1, "PHONE_NUMBER": 1}
    assert meta["social_posts_rows"].value == 2 and meta["crm_activities_rows"].value == 1
    posts = DeltaTable(str(hub_paths.silver / "free_text" / "social_posts")).to_pyarrow_table().to_pylist()
    assert posts == [{"post_id": "P1", "text": "DM me or reach me at <EMAIL_ADDRESS>", "bio": None},
                     {"post_id": "P2", "text": "Love the AirPure 300!", "bio": "Coffee and cycling."}]
    (activity,) = DeltaTable(str(hub_paths.silver / "free_text" / "crm_activities")).to_pyarrow_table().to_pylist()
    assert activity["body"] == "Called <PERSON> on <PHONE_NUMBER>."
