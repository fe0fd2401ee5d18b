"""The feature registry comes from the dbt model YAML, and `hub features list` shows it."""

import json

from typer.testing import CliRunner

from hub.features_cli import features_app
from warehouse.feature_registry import declared_ranges, load_registry


def test_registry_is_generated_from_the_dbt_yaml() -> None:
    features = load_registry()
    assert len(features) >= 40
    names = [f.name for f in features]
    assert len(set(names)) == len(names)
    assert "customer_id" not in names and "as_of_date" not in names
    for feature in features:
        assert feature.description and feature.owner == "team:gold"
        assert feature.dtype in {"bigint", "double"}
        assert feature.freshness.startswith("daily")
    groups = {f.group for f in features}
    assert {"rfm", "activity", "support", "iot", "social", "opportunity"} <= groups


def test_declared_ranges() -> None:
    ranges = declared_ranges()
    assert ranges["sentiment_avg_30d"] == (-1, 1)
    assert ranges["tickets_30d"] == (0, None)


def test_registry_written_elsewhere_is_read_the_same_way(tmp_path) -> None:
    yml = tmp_path / "models.yml"
    yml.write_text(
        "version: 2\nmodels:\n  - name: f\n    config: {meta: {owner: 'team:x', freshness: {fail_after_hours: 3}}}\n"
        "    columns:\n      - {name: customer_id}\n      - {name: as_of_date}\n"
        "      - {name: a, data_type: double, description: A., config: {meta: {feature: {group: g, min: 0, max: 1}}}}\n"
    )
    (feature,) = load_registry(yml, "f")
    assert (feature.name, feature.owner, feature.freshness, feature.max) == ("a", "team:x", "daily, stale after 3 h", 1)


def test_hub_features_list() -> None:
    runner = CliRunner()
    table = runner.invoke(features_app, ["list"])
    assert table.exit_code == 0, table.output
    assert "tickets_30d" in table.output and "team:gold" in table.output
    lines = runner.invoke(features_app, ["list", "--json", "--group", "social"]).output.splitlines()
    assert lines and all(json.loads(line)["group"] == "social" for line in lines)
