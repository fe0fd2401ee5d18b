"""Seven ERP rows that break silver rules: each is quarantined under its named rule, the counts
reconcile, the gold marts still publish, and the run succeeds."""

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from demo import world
from demo.crm_server import CrmServer
from tests.quality.planted_erp import PLANTED, plant
from warehouse.layout import HubPaths

# A whole `hub run` on a 300-person world; on a loaded two-core machine it can take ten minutes.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]
HUB = Path(sys.executable).parent / "hub"


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubPaths, dict[str, str], str]]:
    root = tmp_path_factory.mktemp("planted") / "hub"
    paths = HubPaths(root)
    world.generate(paths.world, people=300, seed=11)
    plant(paths.world / "erp" / "erp.sqlite")
    with CrmServer(paths.world / "crm" / "crm.sqlite", "q-key", rate_limit=10_000) as server:
        env = {**os.environ, "HUB_DATA_DIR": str(root), "DAGSTER_HOME": str(root / "dagster"),
               "HUB_CRM_URL": server.url, "HUB_CRM_API_KEY": "q-key",
               "HUB_ERP_URL": f"sqlite:///{paths.world / 'erp' / 'erp.sqlite'}",
               "HUB_LANDING_DIR": str(paths.world / "landing")}
        done = subprocess.run([str(HUB), "run"], env=env, capture_output=True, text=True, check=False)
    yield paths, env, "" if done.returncode == 0 else f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_the_run_succeeds(planted_run: tuple[HubPaths, dict[str, str], str]) -> None:
    assert planted_run[2] == "", planted_run[2]


def test_each_planted_row_is_quarantined_under_its_rule(planted_run: tuple[HubPaths, dict[str, str], str]) -> None:
    _paths, env, _ = planted_run
    done = subprocess.run([str(HUB), "quality", "quarantine", "--layer", "silver"], env=env,
                          capture_output=True, text=True, check=True)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {"layer", "table", "record_key", "rules", "batch_id"} <= set(rows[0])
    listed = {(r["table"], r["record_key"]): r["rules"].split(";") for r in rows}
    for table, key, rule in PLANTED:
        assert rule in listed[(table, key)], (table, key, listed.get((table, key)))
    assert all(r["batch_id"] for r in rows)


def test_quarantined_rows_do_not_reach_the_marts_and_counts_reconcile(
    planted_run: tuple[HubPaths, dict[str, str], str],
) -> None:
    paths, _, _ = planted_run
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        refs = {r[0] for r in con.execute("select ref from marts.customer_timeline where ref like 'erp/%PLANTED%'").fetchall()}
        assert refs == set()
        for table in ("stg_erp__order_lines", "stg_erp__invoices", "stg_erp__sales_orders"):
            rows_in = con.execute(f"select count(*) from staging.{table}").fetchone()[0]
            rejected = con.execute(
                f"select count(*) from quality.silver_rejections where table_name = '{table}'"
            ).fetchone()[0]
            summary = con.execute(
                f"""select count(*) from quality.quarantine_summary where "table" = '{table}'"""
            ).fetchone()[0]
            assert rejected >= 1 and summary >= 1
            assert rows_in > rejected
        assert con.execute("select count(*) from marts.customer_features_daily").fetchone()[0] > 0
        assert con.execute("select count(*) from quality.quality_results").fetchone()[0] > 0
