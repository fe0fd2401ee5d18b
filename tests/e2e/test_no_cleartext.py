"""A copy of the data root, taken without keys, holds no email, phone or national ID of the
world's people in clear: the byte scan of every file outside world/ after two pipeline runs.

The published DuckDB files (the analysts' and every role's database) are encrypted and are
scanned like everything else. Known gap, named here rather than skipped: the working DuckDB
files are not written encrypted yet (dbt's ``warehouse.duckdb``, identity's run state).
``WORKING_DUCKDB_FILES`` lists them; the scan's findings in those files are asserted apart, as
an expected failure that turns into a test failure (strict) the day they are encrypted, so the
gap cannot outlive its fix unnoticed.
"""

from __future__ import annotations

import polars as pl
import pytest

from demo.layout import paths as world_paths
from privacy.byte_scan import Needles, ScanReport, scan
from warehouse.encryption_coverage import column_coverage
from warehouse.layout import HubPaths

# Where identifiers still sit in clear in the current release: the unencrypted working DuckDB files.
WORKING_DUCKDB_FILES = ("warehouse.duckdb", "state/identity/run/state.duckdb")


def _needles(paths: HubPaths) -> Needles:
    people = pl.read_parquet(world_paths(paths.world).people)
    values = lambda *cols: [v for c in cols for v in people[c].drop_nulls().to_list()]  # noqa: E731
    return Needles(emails=values("email", "family_email"), phones=values("phone", "landline"),
                   national_ids=values("national_id"))


@pytest.fixture(scope="module")
def scanned(pipeline_run: tuple[HubPaths, dict, list[int]]) -> tuple[Needles, ScanReport, ScanReport]:
    paths, _, _ = pipeline_run
    needles = _needles(paths)
    return needles, scan(paths.root, needles), scan(paths.world, needles, exclude=())


def _in_duckdb_file(path: str) -> bool:
    return path in WORKING_DUCKDB_FILES


def test_the_scan_finds_identifiers_where_they_are_in_clear(scanned: tuple[Needles, ScanReport, ScanReport]) -> None:
    needles, _, world = scanned
    assert needles.count["email"] > 100 and needles.count["phone"] > 100 and needles.count["national_id"] > 10
    kinds = {f.kind for f in world.findings}
    # The source systems hold everything in clear: the scan must see it there.
    assert kinds == {"email", "phone", "national_id"}, world.summary()
    assert world.by_format["sqlite"] and world.by_format["parquet"]


def test_no_identifier_in_clear_outside_the_working_duckdb_files(scanned: tuple[Needles, ScanReport, ScanReport]) -> None:
    _, report, _ = scanned
    assert report.by_format["parquet"] > 20 and report.by_format["sqlite"] >= 2, report.by_format
    assert report.by_format["duckdb"] > len(WORKING_DUCKDB_FILES)  # the published files were read too
    assert not [f for f in report.sealed_duckdb if not f.startswith("published/")]
    leaks = [f for f in report.findings if not _in_duckdb_file(f.path)]
    assert not leaks, "\n".join(f"{f.path} [{f.part}]: {report.hits[(f.path, f.part, f.kind)]} {f.kind}"
                                for f in leaks)


def test_the_published_duckdb_files_do_not_open_without_a_key(scanned: tuple[Needles, ScanReport, ScanReport]) -> None:
    _, report, _ = scanned
    assert "published/warehouse.duckdb" in report.sealed_duckdb
    assert len([f for f in report.sealed_duckdb if f.startswith("published/")]) >= 3  # warehouse and roles


@pytest.mark.xfail(strict=True, reason="known gap: the working DuckDB files (warehouse.duckdb, identity's "
                                       "run state) are not encrypted at rest yet")
def test_no_identifier_in_clear_in_the_working_duckdb_files(scanned: tuple[Needles, ScanReport, ScanReport]) -> None:
    _, report, _ = scanned
    leaks = [f for f in report.findings if _in_duckdb_file(f.path)]
    assert not leaks, report.summary()


def test_every_protected_column_holds_only_ciphertext(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, _, _ = pipeline_run
    gaps = column_coverage(paths)
    tables = {g.table for g in gaps}
    assert {"bronze/crm/contacts", "bronze/erp/customers", "bronze/social/posts", "quarantine/crm",
            "gold/customer_360"} <= tables
    assert sum(g.values for g in gaps) > 1000
    assert [g for g in gaps if g.cleartext] == []
