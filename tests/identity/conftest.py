"""Shared fixtures: one small generated world and one model trained on it, per session.

Everything runs real Splink on DuckDB; the world is small so the whole folder stays fast.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench.identity_data import generate
from identity import canonical, train
from identity.model_store import Model
from identity.runs import RunResult
from identity.settings import IdentityConfig


@pytest.fixture(scope="session")
def config() -> IdentityConfig:
    return IdentityConfig.load()


@pytest.fixture(scope="session")
def world() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical records, truth) of about 4,000 records."""
    return generate(4_000, seed=3)


@pytest.fixture(scope="session")
def model(world: tuple[pl.DataFrame, pl.DataFrame], config: IdentityConfig,
          tmp_path_factory: pytest.TempPathFactory) -> Model:
    records, _ = canonical.to_canonical(world[0])
    return train.train_on_records(records, config, tmp_path_factory.mktemp("models"))


def with_person_values(world: tuple[pl.DataFrame, pl.DataFrame], column: str, share: int,
                       value: pl.Expr) -> pl.DataFrame:
    """The world's records with ``value`` (an expression of the true ``person_id``) in
    ``column`` on ``share``% of them, chosen by a seeded hash: an identifier every source
    may hold for a person (the generator keeps national IDs in one source, and no handles)."""
    records = world[0].join(world[1].select("source", "source_record_id", "person_id"),
                            on=["source", "source_record_id"])
    keep = pl.int_range(pl.len()).hash(9) % 100 < share
    return records.with_columns(pl.when(keep).then(value).alias(column)).drop("person_id")


@pytest.fixture(scope="session")
def model_with_handles(world: tuple[pl.DataFrame, pl.DataFrame], config: IdentityConfig,
                       tmp_path_factory: pytest.TempPathFactory) -> Model:
    """A model trained where records carry social handles (the fixture world has none, and
    a model compares only the columns it was trained on)."""
    handle = pl.lit("x:p") + pl.col("person_id").hash(4).cast(pl.String).str.slice(0, 8)
    records, _ = canonical.to_canonical(with_person_values(world, "social_handle", 30, handle))
    return train.train_on_records(records, config, tmp_path_factory.mktemp("models_handles"))


def person(source: str, rid: str, **values: str | None) -> dict[str, str | None]:
    """One canonical record; unspecified columns are empty."""
    row: dict[str, str | None] = {c: None for c in canonical.CANONICAL_COLUMNS}
    row.update(source=source, source_record_id=rid, **values)
    return row


def frame(*rows: dict[str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={c: pl.String for c in canonical.CANONICAL_COLUMNS})


def customers_of(result: RunResult, *keys: tuple[str, str]) -> list[str]:
    a = result.assignment
    out = []
    for source, rid in keys:
        row = a.filter((pl.col("source") == source) & (pl.col("source_record_id") == rid))
        out.append(row["customer_id"][0])
    return out


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
