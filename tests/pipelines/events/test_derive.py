"""Events derived from a warehouse: from the first derivation on, once per change."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.events.derive import derive
from pipelines.events.outbox import Outbox
from pipelines.events.topics import CUSTOMER_ATTRIBUTES

SCHEMA = f"""
create schema staging; create schema intermediate; create schema marts;
create table staging.stg_iot__telemetry (event_id varchar, device_id varchar, ts timestamp, alerts varchar,
    alert_count integer, temp_c double, power_w double, usage_min double, _ingested_at timestamptz);
create table intermediate.int_customer_devices (customer_id varchar, device_id varchar, model varchar);
create table staging.stg_identity__identity_changes (run_id varchar, ts timestamp, event varchar,
    customer_id varchar, other_customer_id varchar, source varchar, source_record_id varchar);
create table staging.stg_crm__opportunity_versions (opportunity_id varchar, contact_id varchar, stage varchar,
    amount double, currency varchar, updated_at timestamp, _ingested_at timestamptz);
create table intermediate.int_identity_current (source varchar, source_record_id varchar, customer_id varchar);
create table marts.customer_360 (customer_id varchar, {", ".join(f"{a} varchar" for a in CUSTOMER_ATTRIBUTES)});
insert into intermediate.int_customer_devices values ('C1', 'D1', 'heat-pump');
insert into intermediate.int_identity_current values ('crm', 'K1', 'C1');
insert into staging.stg_iot__telemetry values ('T0', 'D1', '2026-12-01 10:00', '["overheat"]', 1, 40, 90, 30, '2026-12-01 10:00:01+00');
insert into staging.stg_identity__identity_changes values ('r0', '2026-12-01 09:00', 'created', 'C1', null, 'crm', 'K1');
insert into staging.stg_crm__opportunity_versions values ('O1', 'K1', 'prospecting', 100, 'EUR', '2026-12-01 08:00', '2026-12-01 08:00:05+00');
insert into marts.customer_360 (customer_id, city, email) values ('C1', 'Paris', 'a@example.org');
"""

LATER = """
insert into staging.stg_iot__telemetry values
    ('T1', 'D1', '2026-12-02 10:00', '["overheat"]', 1, 41, 90, 30, '2026-12-02 10:00:01+00'),
    ('T2', 'D1', '2026-12-02 10:01', '[]', 0, 22, 90, 30, '2026-12-02 10:01:01+00');
insert into staging.stg_identity__identity_changes values
    ('r1', '2026-12-02 09:00', 'merged', 'C1', 'C2', 'erp', 'E1'),
    ('r1', '2026-12-02 09:00', 'merged', 'C1', 'C2', 'erp', 'E2'),
    ('r1', '2026-12-02 09:00', 'split', 'C3', 'C1', 'social', 'S1');
insert into staging.stg_crm__opportunity_versions values
    ('O1', 'K1', 'prospecting', 100, 'EUR', '2026-12-02 08:00', '2026-12-02 08:00:05+00'),
    ('O1', 'K1', 'proposal', 100, 'EUR', '2026-12-02 09:00', '2026-12-02 09:00:05+00');
update marts.customer_360 set city = 'Lyon';
"""


def test_each_change_becomes_one_event_under_a_stable_id(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(SCHEMA)
    key = b"k" * 32
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        assert derive(db, outbox, key) == {}  # the first derivation sets the cursors: no history
        with duckdb.connect(str(db)) as con:
            con.execute(LATER)
        assert derive(db, outbox, key) == {"device.alert": 1, "customer.merged": 1, "customer.split": 1,
                                           "opportunity.stage_changed": 1, "customer.updated": 1}
        assert derive(db, outbox, key) == {}
        events = {e.topic: e.payload for e in outbox.pending("anyone")}
    assert events["customer.merged"]["merged_customer_id"] == "C2"
    assert events["customer.merged"]["records_moved"] == 2
    assert events["customer.split"]["split_from_customer_id"] == "C1"
    stage = events["opportunity.stage_changed"]
    assert (stage["customer_id"], stage["from_stage"], stage["to_stage"]) == ("C1", "prospecting", "proposal")
    assert events["device.alert"]["alerts"] == ["overheat"] and events["device.alert"]["customer_id"] == "C1"
    updated = events["customer.updated"]
    assert updated["changed"] == ["city"] and updated["city"] == "Lyon" and "email" not in updated

    # Deriving the same changes from scratch gives the same event IDs (subscribers dedupe on them).
    with Outbox(tmp_path / "again.sqlite") as again:
        again.set_cursor(again.con, "device.alert", "2026-12-01 10:00:01+00")
        again.con.commit()
        derive(db, again, key)
        assert {e.event_id for e in again.pending("anyone") if e.topic == "device.alert"} == {
            events["device.alert"]["event_id"]}
