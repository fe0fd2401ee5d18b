"""The quality report shows the monitors' verdicts from the data root: freshness per source, the
drift table and every monitor that fired, as a page without scripts."""

from datetime import UTC, datetime

from quality.monitors import MonitorResult
from warehouse.layout import HubPaths
from warehouse.quality_monitors import record_monitors
from warehouse.quality_report import report_data, write_report

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_the_report_shows_the_latest_monitor_run(tmp_path) -> None:
    paths = HubPaths(tmp_path / "hub")
    record_monitors(paths, "old", [MonitorResult("volume", "crm/contacts", "latest_batch_rows", 9.0, 3.5, True, "drop: old")],
                    NOW.replace(hour=1))
    record_monitors(paths, "new", [
        MonitorResult("freshness", "erp", "load_age_hours", 3.0, 26.0, False),
        MonitorResult("freshness", "iot", "source_lag_hours", 200.0, 48.0, True),
        MonitorResult("drift", "spend_90d_eur", "psi", 0.41, 0.2, True),
        MonitorResult("drift", "visits_30d", "psi", 0.01, 0.2, False),
        MonitorResult("schema_drift", "iot/devices", "new_fields", 1.0, 0.0, True, "owner_mobile"),
        MonitorResult("volume", "crm/contacts", "latest_batch_rows", 1000.0, 3.5, False, "normal"),
    ], NOW)
    data = report_data(paths, NOW)
    assert data.freshness == [("erp", "latest load", "3.0 h / 26 h", False), ("iot", "source lag behind load", "200.0 h / 48 h", True)]
    assert data.drift == [("spend_90d_eur", 0.41, True), ("visits_30d", 0.01, False)]
    assert data.monitors == [("schema_drift", "iot/devices", "owner_mobile")]
    page = write_report(paths, tmp_path / "report.html").read_text()
    assert "Monitor warnings" in page and "owner_mobile" in page and "drop: old" not in page
    assert "<script" not in page
