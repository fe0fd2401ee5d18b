"""get_training_frame: point-in-time correctness (no leakage), frame types, consent."""

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from warehouse.features import ConsentNotEnforcedWarning, get_training_frame
from warehouse.layout import HubPaths


@pytest.fixture
def snapshots() -> pl.DataFrame:
    """C1's ticket count changes from 1 to 99 on 2026-01-10; C2 has one snapshot."""
    return pl.DataFrame({
        "customer_id": ["C1", "C1", "C1", "C2"],
        "as_of_date": [date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 10), date(2026, 1, 3)],
        "tickets_30d": [0, 1, 99, 7],
        "recency_days": [3, 4, 0, 12],
    })


def test_a_feature_that_changes_after_event_ts_is_not_returned(snapshots: pl.DataFrame, hub_paths: HubPaths) -> None:
    entities = pl.DataFrame({
        "customer_id": ["C1", "C1", "C1"],
        "event_ts": [datetime(2026, 1, 9, 23, 59, 59), datetime(2026, 1, 10), datetime(2026, 1, 4, 12)],
    })
    with pytest.warns(ConsentNotEnforcedWarning):
        frame = get_training_frame(entities, feature_table=snapshots)
    # The value 99 exists from 2026-01-10 on: one second earlier it must not leak in.
    assert frame["tickets_30d"].to_list() == [1, 99, 0]


def test_rows_keep_their_order_columns_and_nulls(snapshots: pl.DataFrame, hub_paths: HubPaths) -> None:
    entities = pl.DataFrame({
        "customer_id": ["C2", "C9", "C1", "C1"],
        "event_ts": [datetime(2026, 2, 1), datetime(2026, 2, 1), datetime(2025, 12, 1), datetime(2026, 1, 6)],
        "label": [True, False, False, True],
    })
    with pytest.warns(ConsentNotEnforcedWarning):
        frame = get_training_frame(entities, ["recency_days"], feature_table=snapshots)
    assert frame.columns == ["customer_id", "event_ts", "label", "recency_days"]
    assert frame["customer_id"].to_list() == ["C2", "C9", "C1", "C1"]
    # Unknown customer and an event before the first snapshot keep their row, with nulls.
    assert frame["recency_days"].to_list() == [12, None, None, 4]


@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_returns_the_frame_type_it_was_given(kind: str, snapshots: pl.DataFrame, hub_paths: HubPaths) -> None:
    entities = pl.DataFrame({"customer_id": ["C1"], "event_ts": [datetime(2026, 1, 6)]})
    given = {"pandas": entities.to_pandas(), "polars": entities, "arrow": entities.to_arrow()}[kind]
    with pytest.warns(ConsentNotEnforcedWarning):
        frame = get_training_frame(given, feature_table=snapshots.to_pandas())
    assert type(frame) is type(given)
    values = frame["tickets_30d"].to_pylist() if kind == "arrow" else list(frame["tickets_30d"])
    assert values == [1]


def test_time_zones_dates_and_delta_tables(snapshots: pl.DataFrame, hub_paths: HubPaths) -> None:
    write_deltalake(str(hub_paths.gold / "customer_features_daily"), snapshots.to_arrow())
    entities = pd.DataFrame({
        "customer_id": ["C1", "C1"],
        # 2026-01-10 00:30 in Berlin is still 2026-01-09 in UTC: the old value.
        "event_ts": pd.to_datetime(["2026-01-10 00:30", "2026-01-10 02:00"]).tz_localize("Europe/Berlin"),
    })
    with pytest.warns(ConsentNotEnforcedWarning):
        frame = get_training_frame(entities)  # default: gold Delta table under HUB_DATA_DIR
    assert frame["tickets_30d"].tolist() == [1, 99]
    dates = pa.table({"customer_id": ["C1"], "event_ts": pa.array([date(2026, 1, 10)])})
    with pytest.warns(ConsentNotEnforcedWarning):
        assert get_training_frame(dates)["tickets_30d"].to_pylist() == [99]


def test_handed_paths_are_read_and_the_environment_is_not(
    snapshots: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = HubPaths(tmp_path / "elsewhere")
    write_deltalake(str(paths.gold_table("customer_features_daily")), snapshots.to_arrow())
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "empty"))  # holds no feature table
    entities = pl.DataFrame({"customer_id": ["C1"], "event_ts": [datetime(2026, 1, 10)]})
    with pytest.warns(ConsentNotEnforcedWarning):
        frame = get_training_frame(entities, ["tickets_30d"], paths=paths)
    assert frame["tickets_30d"].to_list() == [99]
    with pytest.raises(FileNotFoundError, match="empty"):
        get_training_frame(entities)


def test_unknown_features_and_clashing_columns_are_refused(snapshots: pl.DataFrame, hub_paths: HubPaths) -> None:
    entities = pl.DataFrame({"customer_id": ["C1"], "event_ts": [datetime(2026, 1, 6)], "tickets_30d": [5]})
    with pytest.raises(KeyError, match="no_such"):
        get_training_frame(entities.drop("tickets_30d"), ["no_such"], feature_table=snapshots)
    with pytest.raises(ValueError, match="clash"):
        get_training_frame(entities, feature_table=snapshots)
    with pytest.raises(ValueError, match="event_ts"):
        get_training_frame(entities.drop("event_ts"), feature_table=snapshots)


def test_rows_without_ai_training_consent_at_event_ts_are_excluded(snapshots: pl.DataFrame, hub_paths: HubPaths) -> None:
    consent = pl.DataFrame({
        "customer_id": ["C1", "C1", "C2"],
        "purpose": ["ai_training", "ai_training", "marketing_email"],
        "granted": [True, False, True],
        "effective_at": [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)],
    })
    entities = pl.DataFrame({
        "customer_id": ["C1", "C1", "C1", "C2"],
        "event_ts": [datetime(2026, 1, 4), datetime(2026, 1, 6), datetime(2026, 1, 21), datetime(2026, 1, 6)],
    })
    frame = get_training_frame(entities, feature_table=snapshots, consent=consent)
    # Before the grant, after the withdrawal, and C2 (consented to marketing only) are dropped.
    assert frame["event_ts"].to_list() == [datetime(2026, 1, 6)]
    # The gold consent table is picked up by default once the privacy issue writes it.
    write_deltalake(str(hub_paths.gold / "consent_events"), consent.to_arrow())
    assert get_training_frame(entities, feature_table=snapshots).height == 1
