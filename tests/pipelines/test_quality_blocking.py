"""A failing blocking quality check stops the downstream asset; a passing one lets it run; a
failing warn-level rule never blocks."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.quality.suite_checks import suite_asset_check
from pipelines.defs.resources import HubStorage
from quality.suites import Expectation, Suite, load_suites
from warehouse.layout import HubPaths

CUSTOMER_360 = dg.AssetKey(["marts", "customer_360"])
GOLD_360 = next(s for s in load_suites("gold") if s.table == "marts.customer_360")


def _graph(root: Path, customer_ids: list[str], suite: Suite) -> dg.ExecuteInProcessResult:
    paths = HubPaths(root)

    @dg.asset(key=CUSTOMER_360)
    def customer_360() -> None:
        with duckdb.connect(str(paths.warehouse_db)) as con:
            con.execute("create schema if not exists marts")
            con.execute("create or replace table marts.customer_360 (customer_id varchar, email varchar, lifetime_value double)")
            con.executemany("insert into marts.customer_360 values (?, 'x@example.org', 1.0)", [[c] for c in customer_ids])

    @dg.asset(deps=[CUSTOMER_360])
    def published_copy() -> None:
        (root / "published.txt").write_text("published")

    check = suite_asset_check(suite, CUSTOMER_360, blocking=True)
    return dg.materialize(
        [customer_360, published_copy, check],
        resources={"storage": HubStorage(data_dir=str(root))},
        raise_on_error=False,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_a_failing_blocking_check_stops_the_downstream_asset(tmp_path: Path) -> None:
    result = _graph(tmp_path, ["C1", "C2", "C2"], GOLD_360)  # customer_id not unique
    assert CUSTOMER_360 in _materialized(result)
    assert dg.AssetKey("published_copy") not in _materialized(result)
    assert not (tmp_path / "published.txt").exists()
    evaluation = result.get_asset_check_evaluations()[0]
    assert not evaluation.passed
    assert evaluation.metadata["failing_rows"].data == {"customer_id_unique": 2}


def test_a_passing_check_lets_the_downstream_asset_run(tmp_path: Path) -> None:
    result = _graph(tmp_path, ["C1", "C2"], GOLD_360)
    assert result.success
    assert dg.AssetKey("published_copy") in _materialized(result)


@pytest.mark.parametrize("severity", ["warn"])
def test_a_failing_warn_rule_does_not_block(tmp_path: Path, severity: str) -> None:
    warn_only = Suite("gold", "marts.customer_360", ("customer_id",), (
        Expectation("customer_id_unique", "column_values_to_be_unique", severity=severity,
                    arguments={"column": "customer_id"}),
    ))
    result = _graph(tmp_path, ["C1", "C1"], warn_only)
    assert not result.get_asset_check_evaluations()[0].passed
    assert dg.AssetKey("published_copy") in _materialized(result)
