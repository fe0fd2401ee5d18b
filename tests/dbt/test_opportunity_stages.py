"""Opportunity stage features are point-in-time correct: built by dbt from real bronze Delta
versions landed pull by pull, a stage change written after as_of_date changes no snapshot of
that day or before, and get_training_frame on the published Delta table does not leak it."""

import json
import warnings
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from quality.contracts import CONTRACTS
from quality.row_validation import RawRecord
from tests.dbt.conftest import write_identity
from warehouse.bronze import BronzeLanding
from warehouse.features import ConsentNotEnforcedWarning, get_training_frame
from warehouse.layout import HubPaths
from warehouse.publish import publish_partitions

STAGE_FEATURES = [
    "open_opportunity_avg_days_in_stage", "days_since_last_stage_change", "stage_changes_90d",
    "stage_advances_90d", "avg_days_per_stage_closed", "avg_days_in_prospecting",
    "avg_days_in_qualification", "avg_days_in_proposal", "avg_days_in_negotiation",
]
# C1 (contact CT1) shows up on 01-01 and 01-30: the feature spine runs to the day after.
EVENTS = """
    create schema if not exists intermediate;
    create or replace table intermediate.int_customer_events as
    select * from (values
        ('C1', timestamp '2026-01-01 08:00:00', 'crm', 'call', true),
        ('C1', timestamp '2026-01-30 08:00:00', 'crm', 'call', true)
    ) as t(customer_id, ts, source, event_type, is_activity),
    lateral (select null::double as amount_eur, null::double as duration_days, null::double as usage_min,
                    null::double as power_w, 0 as alert_count, null::double as sentiment, 0 as reactions)
"""
MODELS = ["stg_crm__opportunity_versions", "stg_identity__identity_graph", "int_identity_current", "int_opportunity_stage_intervals",
          "int_customer_activity_daily", "int_customer_opportunity_stages_daily", "customer_features_daily"]
RANGE = {"features_start": "2026-01-05", "features_end": "2026-01-31", "features_daily_from": "2020-01-01"}


def pull(paths: HubPaths, at: datetime, stage: str, updated_at: str) -> None:
    """One CRM pull that returns OP1's current version, landed in bronze as the connector does."""
    record = {
        "id": "OP1", "account_id": None, "contact_id": "CT1", "name": "Acme – Sensor", "stage": stage,
        "amount": 5000.0, "currency": "EUR", "close_date": "2026-02-28",
        "created_at": "2026-01-01T09:00:00Z", "updated_at": updated_at,
    }
    landing = BronzeLanding(paths, CONTRACTS["crm/opportunities"], now=at)
    landing.add_batch([RawRecord(1, json.dumps(record))], "crm://opportunities", f"pull-{at:%Y%m%d}")
    assert landing.commit().accepted == 1


def snapshots(warehouse) -> pd.DataFrame:
    with warehouse("ro") as con:
        frame = con.sql(
            f"select as_of_date, {', '.join(STAGE_FEATURES)} from marts.customer_features_daily "
            "where customer_id = 'C1' order by as_of_date"
        ).df()
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    return frame.set_index("as_of_date")


@pytest.fixture
def stage_history(hub_paths: HubPaths, warehouse, run_dbt) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snapshots built after two pulls (prospecting, then qualification on 01-11), and again
    after a third pull that shows the deal closed won on 01-21."""
    write_identity(hub_paths, [("crm", "CT1", "C1", 1.0)])
    with warehouse() as con:
        con.execute(EVENTS)
    pull(hub_paths, datetime(2026, 1, 2, 1, tzinfo=UTC), "prospecting", "2026-01-01T09:00:00Z")
    pull(hub_paths, datetime(2026, 1, 12, 1, tzinfo=UTC), "qualification", "2026-01-11T09:00:00Z")
    run_dbt("run", "--select", *MODELS, "--vars", json.dumps(RANGE))
    before = snapshots(warehouse)
    pull(hub_paths, datetime(2026, 1, 22, 1, tzinfo=UTC), "closed_won", "2026-01-21T09:00:00Z")
    run_dbt("run", "--select", *MODELS, "--vars", json.dumps(RANGE))
    return before, snapshots(warehouse)


def test_a_stage_change_after_as_of_date_does_not_show(stage_history: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    before, after = stage_history
    assert list(after.index) == list(before.index)
    known = [d for d in after.index if d <= date(2026, 1, 21)]
    # The close was written on 01-21 09:00: unknown at the start of 01-21, so every snapshot up
    # to and including that day is exactly what it was before the pull that brought it.
    pd.testing.assert_frame_equal(after.loc[known], before.loc[known])
    assert not after.loc[date(2026, 1, 22)].equals(before.loc[date(2026, 1, 22)])

    # In prospecting since 01-01; the move to qualification on 01-11 is known from 01-12 on.
    assert after.loc[date(2026, 1, 11), "open_opportunity_avg_days_in_stage"] == 10
    assert after.loc[date(2026, 1, 11), "stage_changes_90d"] == 0
    day = after.loc[date(2026, 1, 12)]
    assert (day["open_opportunity_avg_days_in_stage"], day["stage_changes_90d"], day["stage_advances_90d"]) == (1, 1, 1)
    assert day["days_since_last_stage_change"] == 1
    assert day["avg_days_in_prospecting"] == 10 and pd.isna(day["avg_days_in_qualification"])
    assert pd.isna(day["avg_days_per_stage_closed"])
    # Closed won on 01-21: no open deal any more, and 10 days in each of two stages.
    closed = after.loc[date(2026, 1, 22)]
    assert pd.isna(closed["open_opportunity_avg_days_in_stage"])
    assert (closed["stage_changes_90d"], closed["stage_advances_90d"]) == (2, 2)
    assert closed["avg_days_per_stage_closed"] == 10 and closed["avg_days_in_qualification"] == 10


def test_training_frames_do_not_see_the_close_before_it_happened(
    stage_history: tuple[pd.DataFrame, pd.DataFrame], hub_paths: HubPaths
) -> None:
    publish_partitions(hub_paths.warehouse_db, hub_paths.gold, "customer_features_daily",
                       date(2026, 1, 5), date(2026, 1, 31))
    entities = pd.DataFrame({
        "customer_id": ["C1", "C1"],
        "event_ts": pd.to_datetime(["2026-01-21 23:59:59", "2026-01-22 00:00:00"]),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsentNotEnforcedWarning)
        frame = get_training_frame(entities, ["open_opportunity_avg_days_in_stage", "stage_changes_90d"])
    assert frame["open_opportunity_avg_days_in_stage"].tolist()[0] == 10
    assert pd.isna(frame["open_opportunity_avg_days_in_stage"].tolist()[1])
    assert frame["stage_changes_90d"].tolist() == [1, 2]
