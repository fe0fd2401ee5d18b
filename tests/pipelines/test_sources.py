"""A source is one entry: every contract has its entry and its dbt source, and a source joins a
schedule or a sensor only through what its entry declares."""

import dagster as dg
import pytest
import yaml

from pipelines.connectors.landing_files import read_jsonl
from pipelines.defs.ingest.sources import HOURLY, ON_ARRIVAL, PULL_TAG, SOURCES, Files, Source
from pipelines.environment import apply_env_defaults
from quality.contracts import CONTRACTS, EntityContract, Field
from warehouse.layout import PROJECT_ROOT, HubPaths

STAGING = PROJECT_ROOT / "dbt" / "models" / "staging"


@pytest.fixture
def defs(hub_paths: HubPaths) -> dg.Definitions:
    apply_env_defaults()
    from pipelines.definitions import defs

    return defs


def _dbt_sources() -> dict[tuple[str, str], dict]:
    tables = {}
    for path in STAGING.glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                tables[(source["name"], table["name"])] = table
    return tables


def test_every_contract_has_one_source_entry() -> None:
    declared = [c.name for s in SOURCES for c in s.contracts]
    assert sorted(declared) == sorted(CONTRACTS)


def test_every_contract_has_its_dbt_source() -> None:
    tables = _dbt_sources()
    for contract in CONTRACTS.values():
        table = tables.get((contract.source, contract.entity))
        assert table is not None, f"{contract.name} has no dbt source in {STAGING}/{contract.source}/"
        meta = table["config"]["meta"]
        assert meta["dagster"]["asset_key"] == ["bronze", contract.source, contract.entity]
        assert meta["delta_table_path"].endswith(f"/bronze/{contract.source}/{contract.entity}")


def _selected(defs: dg.Definitions, job_name: str) -> set[dg.AssetKey]:
    return set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def test_assets_carry_the_tags_their_schedule_or_sensor_selects(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    hourly = _selected(defs, defs.resolve_schedule_def("crm_erp_hourly").job_name)
    sensors = {s.name: s for s in defs.sensors}
    for source in SOURCES:
        for contract in source.contracts:
            key = dg.AssetKey(["bronze", contract.source, contract.entity])
            assert {**source.tags}.items() <= graph.get(key).tags.items(), key
            assert (key in hourly) == (source.tags.get(PULL_TAG) == HOURLY), key
            if source.files:
                sensor = sensors[f"{contract.source}_{contract.entity}_landing_sensor"]
                assert _selected(defs, sensor.job_name) == {key}


def test_a_new_file_source_joins_no_clock(defs: dg.Definitions) -> None:
    """A file source added beside the others lands through its sensor, not the hourly pull."""
    from pipelines.defs.ingest.assets import BRONZE_ASSETS, _file_asset
    from pipelines.defs.ingest.schedules import crm_erp_pull_job

    contract = EntityContract("weblogs", "visits", ("visit_id",), {"visit_id": Field("string", True, 64)})
    source = Source("weblogs", contracts=(contract,), tags={PULL_TAG: ON_ARRIVAL},
                    files={contract.name: Files(("weblogs",), "*.jsonl", read_jsonl)})
    extended = dg.Definitions(assets=[*BRONZE_ASSETS, _file_asset(source, contract, source.files[contract.name])],
                              jobs=[crm_erp_pull_job], resources=defs.resources)
    hourly = _selected(extended, "pull_crm_erp")
    assert dg.AssetKey(["bronze", "weblogs", "visits"]) not in hourly
    assert {k.path[1] for k in hourly} == {"crm", "erp"}


def test_an_entry_names_its_files_for_every_contract() -> None:
    contract = next(iter(CONTRACTS.values()))
    with pytest.raises(ValueError, match="files must name every contract"):
        Source(contract.source, contracts=(contract,), files={"other/entity": Files(("x",), "*", read_jsonl)})
    with pytest.raises(ValueError, match="either a pull or files"):
        Source(contract.source, contracts=(contract,))
