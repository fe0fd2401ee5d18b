"""The code location loads, and its graph runs from bronze through dbt without gaps."""

import json
from pathlib import Path

import dagster as dg
import pytest

from pipelines.environment import apply_env_defaults
from warehouse.layout import HubPaths


@pytest.fixture
def defs(hub_paths: HubPaths) -> dg.Definitions:
    apply_env_defaults()
    from pipelines.definitions import defs

    return defs


def test_definitions_load(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)


def test_bronze_feeds_staging_in_one_graph(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    contacts = graph.get(dg.AssetKey(["staging", "stg_crm__contacts"]))
    assert dg.AssetKey(["bronze", "crm", "contacts"]) in contacts.parent_keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if k.path[0] == "bronze"}
    assert groups == {"bronze"}
    assert graph.get(dg.AssetKey(["staging", "stg_erp__customers"])).group_name == "staging"
    assert graph.get(dg.AssetKey(["intermediate", "int_person_records"])).group_name == "intermediate"


def test_dbt_tests_are_asset_checks(defs: dg.Definitions) -> None:
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert "unique_stg_crm__contacts_contact_id" in checks
    assert "rows_reconcile" in checks


def test_schedule_and_sensors_are_registered(defs: dg.Definitions) -> None:
    assert {s.name for s in defs.sensors} >= {
        "social_posts_landing_sensor", "iot_devices_landing_sensor", "iot_telemetry_landing_sensor",
    }
    assert defs.resolve_schedule_def("crm_erp_hourly").cron_schedule == "15 * * * *"


def test_landing_sensor_requests_a_run_once_per_delivery(defs: dg.Definitions, hub_paths: HubPaths, tmp_path: Path) -> None:
    from pipelines.connectors.landing_files import read_jsonl
    from pipelines.connectors.pull import pull_files
    from pipelines.defs.resources import HubStorage, LandingZone
    from quality.contracts import SOCIAL_POSTS

    landing = tmp_path / "landing"
    (landing / "social").mkdir(parents=True)
    sensor = defs.resolve_sensor_def("social_posts_landing_sensor")
    resources = {"storage": HubStorage(data_dir=str(hub_paths.root)), "landing": LandingZone(root=str(landing))}

    def evaluate() -> dg.SensorResult:
        with dg.build_sensor_context(resources=resources) as context:
            return sensor(context)

    assert evaluate().skip_reason is not None
    post = {"post_id": "p1", "platform": "x", "handle": "h", "created_at": "2026-01-01T00:00:00Z"}
    (landing / "social" / "a.jsonl").write_text(json.dumps(post) + "\n")
    first = evaluate()
    assert len(first.run_requests) == 1
    assert evaluate().run_requests[0].run_key == first.run_requests[0].run_key

    pull_files(hub_paths, SOCIAL_POSTS, landing / "social", "*.jsonl", read_jsonl)
    assert evaluate().skip_reason is not None
