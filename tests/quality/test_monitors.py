"""The monitors fire on the changes they exist for, and stay quiet on unchanged data."""

from datetime import UTC, datetime, timedelta

import numpy as np

from quality.monitors import PSI_WARNING, freshness, psi, schema_drift, volume


def test_psi_fires_on_a_shifted_feature_and_not_on_an_unshifted_copy() -> None:
    rng = np.random.default_rng(7)
    reference = rng.gamma(2.0, 50.0, 20_000)
    unshifted = rng.gamma(2.0, 50.0, 20_000)
    shifted = unshifted * 1.6 + 20
    assert psi(reference, unshifted) < 0.05
    assert psi(reference, shifted) > PSI_WARNING


def test_volume_fires_when_half_a_batch_is_missing() -> None:
    history = [1000, 1012, 987, 1003, 995, 1020, 990]
    assert not volume(history, 1004).anomalous
    dropped = volume(history, 500)
    assert dropped.anomalous and dropped.direction == "drop"
    assert volume(history, 2100).direction == "spike"


def test_volume_needs_a_history_before_it_judges() -> None:
    assert not volume([1000], 10).anomalous


def test_freshness_against_the_sla() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert not freshness("erp", now - timedelta(hours=3), now, timedelta(hours=26)).stale
    assert freshness("erp", now - timedelta(days=3), now, timedelta(hours=26)).stale
    assert freshness("iot", None, now, timedelta(hours=26)).stale


def test_schema_drift_names_the_new_fields() -> None:
    assert schema_drift({"email"}, {"email", "loyalty_tier"}) == ["loyalty_tier"]
