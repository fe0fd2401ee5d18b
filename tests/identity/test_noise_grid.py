"""Accuracy on the noise grid (bench/noise_grid.py), a world the resolver was not built on.

Each test generates one cell of the grid, writes it to a real file and resolves it the way
``hub identity resolve`` does (a model trained on the file, a full run), then scores the
result against the generator's truth.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench import noise_grid
from identity import canonical, comparison_columns, evaluate, evidence, workspace
from identity.settings import IdentityConfig


def _resolve(cell: str, records: int, seed: int, tmp_path: Path) -> evaluate.Metrics:
    path, truth = noise_grid.write(tmp_path / cell, records, noise_grid.preset(cell), seed)
    loaded, _ = canonical.load(path)
    result, _, _ = workspace.resolve(loaded, workspace.Workspace(tmp_path / "ws"),
                                     IdentityConfig.load())
    return evaluate.evaluate(result.assignment, evaluate.read_truth(truth))


def test_birth_date_errors_do_not_split_people(tmp_path: Path) -> None:
    # 5% of duplicates with a birth date one digit, one day or one year off, or day and
    # month swapped; everything else clean. Reading a year or a day off as two people made
    # merge protection drop the person's email and phone as shared, and split them.
    m = _resolve("dob_error", 4_000, 5, tmp_path)
    assert m.true_pairs > 2_000
    assert m.pairwise_precision >= 0.999
    assert m.pairwise_recall >= 0.999, m.lines()


def test_verbatim_duplicates_resolve(tmp_path: Path) -> None:
    # Every duplicate copied verbatim: EM's check block agrees on everything, its match
    # share goes to 1 (an infinite log-odds Splink's SQL cannot hold), and training failed.
    m = _resolve("clean", 10_000, 11, tmp_path)
    assert m.pairwise_f1 == 1.0


@pytest.mark.parametrize("other", ["1980-03-21", "1979-03-22"], ids=["a year off", "a day off"])
def test_one_email_with_a_birth_date_off_by_one_is_one_person(other: str) -> None:
    records, _ = canonical.to_canonical(pl.DataFrame({
        "source": ["a", "b"], "source_record_id": ["1", "2"], "first_name": ["Ann", "Ann"],
        "last_name": ["Roe", "Roe"], "birth_date": ["1979-03-21", other],
        "email": ["ann.roe@example.org"] * 2}))
    shared = evidence.find_shared(comparison_columns.build(records), IdentityConfig.load())
    assert shared.is_empty()


def test_one_email_with_birth_dates_years_apart_is_shared() -> None:
    records, _ = canonical.to_canonical(pl.DataFrame({
        "source": ["a", "b"], "source_record_id": ["1", "2"], "first_name": ["Ann", "Ann"],
        "last_name": ["Roe", "Roe"], "birth_date": ["1979-03-21", "1952-03-21"],
        "email": ["ann.roe@example.org"] * 2}))
    shared = evidence.find_shared(comparison_columns.build(records), IdentityConfig.load())
    assert shared["kind"].to_list() == ["email"]
